/* Chiffon's live run log: a native EventSource on the run's SSE stream.
 *
 * Native EventSource reconnects by itself and sends Last-Event-ID, so the server resumes after
 * the last event this page got. "end" closes the stream for good (a finished run). While the
 * connection is down a visible notice says so; it hides again when the stream reopens.
 */
(function () {
  "use strict";

  function startLog(pane) {
    var base = pane.getAttribute("data-stream");
    var lastSeq = parseInt(pane.getAttribute("data-after") || "0", 10) || 0;
    var notice = document.getElementById("stream-notice");
    var status = document.getElementById("run-status");
    var badge = document.getElementById("live-badge");
    var source = null;
    var finished = false;

    function nearBottom() {
      return pane.scrollHeight - pane.scrollTop - pane.clientHeight < 48;
    }

    function showNotice(show) {
      if (notice) notice.hidden = !show;
    }

    function connect() {
      source = new EventSource(base + "?after=" + lastSeq);
      source.addEventListener("open", function () { showNotice(false); });
      source.addEventListener("log", function (event) {
        var seq = parseInt(event.lastEventId, 10);
        if (seq && seq <= lastSeq) return; // already shown
        if (seq) lastSeq = seq;
        if (!event.data) return;
        var stick = nearBottom();
        pane.insertAdjacentHTML("beforeend", event.data);
        if (stick) pane.scrollTop = pane.scrollHeight;
      });
      source.addEventListener("status", function (event) {
        if (!status) return;
        status.innerHTML = event.data;
        if (window.htmx) window.htmx.process(status);
      });
      source.addEventListener("end", function () {
        finished = true;
        source.close();
        showNotice(false);
        if (badge) badge.hidden = true;
      });
      source.addEventListener("error", function () {
        if (finished) return;
        showNotice(true);
        // The browser retries by itself unless the server answered with an error status;
        // then try again from the last event shown.
        if (source.readyState === EventSource.CLOSED) {
          window.setTimeout(connect, 3000);
        }
      });
    }

    pane.scrollTop = pane.scrollHeight;
    connect();
  }

  /* A plan page: the server sends the whole card again whenever the plan changes. */
  function startPlan(holder) {
    var notice = document.getElementById("plan-stream-notice");
    var source = new EventSource(holder.getAttribute("data-plan-stream"));
    var finished = false;
    source.addEventListener("open", function () { if (notice) notice.hidden = true; });
    source.addEventListener("card", function (event) {
      var open = Array.prototype.map.call(holder.querySelectorAll("details[open]"), function (d) {
        return d.querySelector("summary") ? d.querySelector("summary").textContent : "";
      });
      holder.innerHTML = event.data;
      holder.querySelectorAll("details").forEach(function (d) {
        var summary = d.querySelector("summary");
        if (summary && open.indexOf(summary.textContent) >= 0) d.open = true;
      });
      if (window.htmx) window.htmx.process(holder);
    });
    source.addEventListener("end", function () { finished = true; source.close(); });
    source.addEventListener("error", function () {
      if (!finished && notice) notice.hidden = false;
    });
  }

  /* Refusals (403, 409, 422) come with a fragment that says why: show it like a success. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 403 || status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function init() {
    var pane = document.querySelector("[data-stream]");
    if (pane && window.EventSource) startLog(pane);
    var plan = document.querySelector("[data-plan-stream]");
    if (plan && window.EventSource) startPlan(plan);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
