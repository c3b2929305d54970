"""The post-mortem pages (of a run, of a plan), the on-demand check page, the suggestion
forms (HTMX) and the JSON API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from chiffon.analyzer import (
    AnalyzerError,
    AnalyzerService,
    SuggestionConflict,
    SuggestionView,
)
from chiffon.approval import ApprovalService
from chiffon.executor import ExecutorService
from chiffon.web.identity import person
from chiffon.web.progress import Progress

__all__ = ["ROUTES"]

_EVENT_PAGE = 1000


async def _timeline(executor: ExecutorService, run_id: int) -> Progress:
    progress = Progress()
    after = 0
    while True:
        page = await executor.list_events(run_id, after, _EVENT_PAGE)
        for event in page:
            progress.add(event)
        if len(page) < _EVENT_PAGE:
            return progress
        after = page[-1].seq


# -- pages --------------------------------------------------------------------------------


@get("/runs/{run_id:int}/postmortem", media_type=MediaType.HTML, include_in_schema=False)
async def postmortem_page(
    executor: NamedDependency[ExecutorService],
    analyzer: NamedDependency[AnalyzerService],
    approval: NamedDependency[ApprovalService],
    run_id: FromPath[int],
) -> Template:
    """A failed run: its task timeline, the failing task's output, the diagnosis and the
    suggestions for its entry with their fixes (and the plan it was a step of)."""
    run = await executor.get_run(run_id)
    if run is None:
        raise NotFoundException(f"There is no run {run_id}.")
    diagnosed = await analyzer.diagnosis_of(run_id)
    in_plan = await approval.plan_of_run(run_id)
    return Template(
        "analyzer/postmortem.html",
        context={
            "run": run,
            "progress": await _timeline(executor, run_id),
            "diagnosed": diagnosed,
            "diagnosis": diagnosed.diagnosis,
            "analysis": diagnosed.analysis,
            "analysis_error": diagnosed.analysis_error,
            "run_id": run_id,
            "plan_id": None,
            "in_plan": await approval.find(in_plan) if in_plan is not None else None,
        },
    )


@get("/plans/{plan_id:int}/postmortem", media_type=MediaType.HTML, include_in_schema=False)
async def plan_postmortem_page(
    executor: NamedDependency[ExecutorService],
    analyzer: NamedDependency[AnalyzerService],
    plan_id: FromPath[int],
) -> Template:
    """A failed plan: its steps (status, duration, tasks), and for each failed step the
    failing task's output, the diagnosis and the suggestions with their fixes."""
    postmortem = await analyzer.plan_postmortem(plan_id)
    if postmortem is None:
        raise NotFoundException(f"There is no plan {plan_id}.")
    progresses = {
        item.run.id: await _timeline(executor, item.run.id)
        for item in postmortem.steps
        if item.run is not None
    }
    return Template(
        "analyzer/plan_postmortem.html",
        context={"postmortem": postmortem, "progresses": progresses, "plan_id": plan_id},
    )


@get("/analyze", media_type=MediaType.HTML, include_in_schema=False)
async def analyze_page(
    analyzer: NamedDependency[AnalyzerService], entry: FromQuery[str]
) -> Template:
    """The suggestions for any catalog entry, on demand."""
    analysis = await analyzer.analyze(entry)
    return Template(
        "analyzer/entry.html",
        context={"analysis": analysis, "run_id": None, "plan_id": None, "notice": None},
    )


def _back(entry: str, run_id: int | None, plan_id: int | None) -> Redirect:
    """To the page the form was on: a plan's or a run's post-mortem, else the entry's check."""
    if plan_id is not None:
        where = f"/plans/{plan_id}/postmortem"
    elif run_id is not None:
        where = f"/runs/{run_id}/postmortem"
    else:
        where = f"/analyze?entry={quote(entry)}"
    return Redirect(where, status_code=HTTP_303_SEE_OTHER)


def _number(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


@dataclass
class RecheckForm:
    entry: str = ""
    run_id: str = ""
    plan_id: str = ""


@post("/analyze", include_in_schema=False, status_code=HTTP_303_SEE_OTHER)
async def recheck_form(
    analyzer: NamedDependency[AnalyzerService], data: URLEncodedBody[RecheckForm]
) -> Redirect:
    """Lint the entry again (after its files changed) and go back to where the person was."""
    await analyzer.analyze(data.entry, force=True)
    return _back(data.entry, _number(data.run_id), _number(data.plan_id))


@dataclass
class DecisionForm:
    author: str = ""
    reason: str = ""
    run_id: str = ""
    plan_id: str = ""

    @property
    def run(self) -> int | None:
        return _number(self.run_id)

    @property
    def plan(self) -> int | None:
        return _number(self.plan_id)


def _suggestion_fragment(
    suggestion: SuggestionView, form: DecisionForm, notice: str | None = None
) -> Template:
    return Template(
        "analyzer/_suggestion.html",
        context={
            "suggestion": suggestion,
            "run_id": form.run,
            "plan_id": form.plan,
            "notice": notice,
        },
    )


async def _decided(
    request: HTMXRequest, analyzer: AnalyzerService, suggestion_id: int, form: DecisionForm
) -> Template | Redirect:
    suggestion = await analyzer.get_suggestion(suggestion_id)
    if request.htmx:
        return _suggestion_fragment(suggestion, form)
    return _back(suggestion.entry, form.run, form.plan)


async def _refused(
    request: HTMXRequest,
    analyzer: AnalyzerService,
    suggestion_id: int,
    form: DecisionForm,
    error: AnalyzerError,
) -> Template:
    """The suggestion with the refusal in place (HTMX); a plain form gets the error page."""
    if not request.htmx:
        raise error
    return _suggestion_fragment(await analyzer.get_suggestion(suggestion_id), form, str(error))


@post(
    "/suggestions/{suggestion_id:int}/accept",
    include_in_schema=False,
    status_code=200,
    opt={"role": "admin"},  # it writes the playbook repo
)
async def accept_form(
    request: HTMXRequest,
    analyzer: NamedDependency[AnalyzerService],
    suggestion_id: FromPath[int],
    data: URLEncodedBody[DecisionForm],
) -> Template | Redirect:
    """Apply and commit the fix as the form's author (default: the signed-in person); a
    refusal (file changed) is shown in place."""
    try:
        await analyzer.accept(suggestion_id, data.author or person(request), data.run)
    except AnalyzerError as error:
        return await _refused(request, analyzer, suggestion_id, data, error)
    return await _decided(request, analyzer, suggestion_id, data)


@post("/suggestions/{suggestion_id:int}/dismiss", include_in_schema=False, status_code=200)
async def dismiss_form(
    request: HTMXRequest,
    analyzer: NamedDependency[AnalyzerService],
    suggestion_id: FromPath[int],
    data: URLEncodedBody[DecisionForm],
) -> Template | Redirect:
    try:
        await analyzer.dismiss(suggestion_id, data.reason, data.author or person(request))
    except AnalyzerError as error:
        return await _refused(request, analyzer, suggestion_id, data, error)
    return await _decided(request, analyzer, suggestion_id, data)


@post("/suggestions/{suggestion_id:int}/fix", include_in_schema=False, status_code=200)
async def fix_form(
    request: HTMXRequest,
    analyzer: NamedDependency[AnalyzerService],
    suggestion_id: FromPath[int],
    data: URLEncodedBody[DecisionForm],
) -> Template | Redirect:
    """Compute ansible-lint's fix for the suggestion, to show its diff."""
    try:
        await analyzer.prepare_fix(suggestion_id)
    except SuggestionConflict as error:
        return await _refused(request, analyzer, suggestion_id, data, error)
    return await _decided(request, analyzer, suggestion_id, data)


# -- JSON API -----------------------------------------------------------------------------


@get("/api/runs/{run_id:int}/diagnosis", tags=["analyzer"])
async def diagnosis_api(
    executor: NamedDependency[ExecutorService],
    analyzer: NamedDependency[AnalyzerService],
    run_id: FromPath[int],
) -> dict[str, Any]:
    """The failed run's diagnosis and its entry's suggestions (diagnosed now when none is
    stored); 400 for a run that did not fail, 404 for no such run."""
    if await executor.get_run(run_id) is None:
        raise NotFoundException(f"There is no run {run_id}.")
    diagnosed = await analyzer.diagnosis_of(run_id)
    return {
        "diagnosis": diagnosed.diagnosis.to_json(),
        "suggestions": diagnosed.analysis.to_json() if diagnosed.analysis else None,
        "suggestions_error": diagnosed.analysis_error,
    }


@get("/api/plans/{plan_id:int}/diagnosis", tags=["analyzer"])
async def plan_diagnosis_api(
    analyzer: NamedDependency[AnalyzerService], plan_id: FromPath[int]
) -> dict[str, Any]:
    """The failed plan's steps (state, run, duration) with the diagnosis and suggestions of
    each failed step's run; 400 for a plan that did not fail, 404 for no such plan."""
    postmortem = await analyzer.plan_postmortem(plan_id)
    if postmortem is None:
        raise NotFoundException(f"There is no plan {plan_id}.")
    return postmortem.to_json()


@get("/api/suggestions", tags=["analyzer"])
async def suggestions_api(
    analyzer: NamedDependency[AnalyzerService],
    entry: FromQuery[str],
    recheck: FromQuery[bool] = False,
) -> dict[str, Any]:
    """The entry's suggestions (cached by content hash; ``recheck`` lints again)."""
    return (await analyzer.analyze(entry, force=recheck)).to_json()


@dataclass
class Acceptance:
    """Who accepts the fix (the commit's author, "Name <email>"; default: the caller's account
    name) and the run it came from."""

    author: str = ""
    run_id: int | None = None


@dataclass
class Dismissal:
    reason: str
    by: str | None = None  # who dismisses it; the caller when not given


@post(
    "/api/suggestions/{suggestion_id:int}/accept",
    tags=["analyzer"],
    status_code=200,
    opt={"role": "admin"},  # it writes the playbook repo
)
async def accept_api(
    request: Request[Any, Any, Any],
    analyzer: NamedDependency[AnalyzerService],
    suggestion_id: FromPath[int],
    data: JSONBody[Acceptance],
) -> dict[str, Any]:
    """Apply the fix and commit it; 409 when the file changed since (re-check the entry) or
    the suggestion was already decided, 400 when it has no fix."""
    author = data.author or person(request)
    return (await analyzer.accept(suggestion_id, author, data.run_id)).to_json()


@post("/api/suggestions/{suggestion_id:int}/dismiss", tags=["analyzer"], status_code=200)
async def dismiss_api(
    request: Request[Any, Any, Any],
    analyzer: NamedDependency[AnalyzerService],
    suggestion_id: FromPath[int],
    data: JSONBody[Dismissal],
) -> dict[str, Any]:
    """Dismiss with a reason (required); 409 when already decided."""
    by = data.by or person(request)
    return (await analyzer.dismiss(suggestion_id, data.reason, by)).to_json()


@post("/api/suggestions/{suggestion_id:int}/fix", tags=["analyzer"], status_code=200)
async def fix_api(
    analyzer: NamedDependency[AnalyzerService], suggestion_id: FromPath[int]
) -> dict[str, Any]:
    """Compute the suggestion's fix (ansible-lint's --fix on a scratch copy) and its diff."""
    return (await analyzer.prepare_fix(suggestion_id)).to_json()


ROUTES = [
    postmortem_page,
    plan_postmortem_page,
    analyze_page,
    recheck_form,
    accept_form,
    dismiss_form,
    fix_form,
    diagnosis_api,
    plan_diagnosis_api,
    suggestions_api,
    accept_api,
    dismiss_api,
    fix_api,
]
