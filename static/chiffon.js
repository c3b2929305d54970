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

  function init() {
    var pane = document.querySelector("[data-stream]");
    if (pane && window.EventSource) startLog(pane);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
