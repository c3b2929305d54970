"""AnalyzerService: an entry's suggestions (cached by content hash), accepting and dismissing
them, and the diagnosis of failed runs."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, update

from chiffon.bus import EventBus
from chiffon.catalog import CatalogError, CatalogService, Entry, EntryKind
from chiffon.db import SessionFactory, utcnow
from chiffon.executor import ExecutorService, RunFinished, RunStatus, RunView

from . import lint
from ._analysis import check_and_fix, file_hash, files_key, merge, row_values, unified_diff
from ._checks import chiffon_fix, entry_files
from ._diagnose import EVENT_TYPES, FailureFinder, diagnosis_view
from ._plans import NoPlans, PlanPostmortem, PlanReader, plan_postmortem
from ._results import cached_analysis, store_analysis
from ._types import (
    Analysis,
    AnalyzerError,
    Diagnosed,
    DiagnosisView,
    SuggestionConflict,
    SuggestionNotFound,
    SuggestionStatus,
    SuggestionView,
)
from ._views import commit_author, read_text, suggestion_view, with_cached
from .events import RunDiagnosed, SuggestionAccepted
from .models import Diagnosis, LintResult, Suggestion
from .yamledit import YamlSyntaxError

log = logging.getLogger("chiffon.analyzer")

# An optional richer explanation (the planner's LLM chain): given the deterministic diagnosis
# and the run's correlation id, returns a paragraph or None. Its failure is logged; the
# deterministic text always stays.
Explainer = Callable[[DiagnosisView, str], Awaitable[str | None]]
_EVENT_PAGE = 2000


class AnalyzerService:
    def __init__(
        self,
        sessions: SessionFactory,
        bus: EventBus,
        catalog: CatalogService,
        executor: ExecutorService,
        lint_executable: str | None = None,
        lint_timeout_s: float = 120,
        explainer: Explainer | None = None,
        plans: PlanReader | None = None,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._catalog = catalog
        self._executor = executor
        self.lint_executable = lint_executable or lint.default_executable()
        self._lint_timeout_s = lint_timeout_s
        self._explainer = explainer
        self._plans: PlanReader = plans or NoPlans()
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def _root(self) -> Path:
        return self._catalog.playbooks_dir

    # -- suggestions ----------------------------------------------------------------------

    async def analyze(self, ref: str, force: bool = False) -> Analysis:
        """The suggestions for the entry ``ref`` names (cached by its files' content; ``force``
        lints again). Raises ``AnalyzerError`` when no entry matches."""
        try:
            entry = await self._catalog.resolve(ref)
        except CatalogError as error:
            raise AnalyzerError(str(error)) from None
        return await self.analyze_entry(entry, force)

    async def analyze_entry(self, entry: Entry, force: bool = False) -> Analysis:
        root = self._root
        files = await asyncio.to_thread(entry_files, root, str(entry.kind), entry.path, entry.role)
        key = files_key(entry.content_hash, files)
        # One analysis of a content at a time in this process (a lock is a few hundred bytes,
        # kept per content ever analysed); another process is caught by the unique key.
        async with self._locks[key]:
            cached = None if force else await cached_analysis(self._sessions, entry, key)
            if cached is not None:
                return cached
            target = f"roles/{entry.role or entry.name}" if entry.kind is EntryKind.ROLE else None
            # The linter (a subprocess) and Chiffon's checks and first fixes (a thread) run
            # side by side.
            (own, fixes), report = await asyncio.gather(
                asyncio.to_thread(check_and_fix, files),
                lint.lint(self.lint_executable, root, [target or entry.path], self._lint_timeout_s),
            )
            rows = merge(report.findings, own)
            texts = {source.path: source.text for source in files}
            values = await asyncio.to_thread(row_values, rows, texts, root, fixes)
            await store_analysis(
                self._sessions, entry, key, values, report.error, report.seconds, force
            )
            analysis = await cached_analysis(self._sessions, entry, key)
            assert analysis is not None
            return with_cached(analysis, False)

    async def get_suggestion(self, suggestion_id: int) -> SuggestionView:
        """Raises ``SuggestionNotFound``."""
        row, result = await self._row(suggestion_id)
        return suggestion_view(row, f"{result.entry_kind}:{result.entry_name}")

    async def _row(self, suggestion_id: int) -> tuple[Suggestion, LintResult]:
        async with self._sessions() as session:
            row = await session.get(Suggestion, suggestion_id)
            if row is None:
                raise SuggestionNotFound(f"There is no suggestion {suggestion_id}.")
            result = await session.get_one(LintResult, row.result_id)
            return row, result

    async def prepare_fix(self, suggestion_id: int) -> SuggestionView:
        """Compute the suggestion's fix when it is not yet (ansible-lint's takes a few
        seconds; Chiffon's a moment). Raises ``SuggestionConflict`` when the file changed."""
        row, result = await self._row(suggestion_id)
        entry_ref = f"{result.entry_kind}:{result.entry_name}"
        if row.fix_by is None or row.fix_text is not None or row.fix_error:
            return suggestion_view(row, entry_ref)
        await self._refuse_if_changed(row, entry_ref)
        before = await asyncio.to_thread(read_text, self._root / row.file)
        fixed: str | None
        error: str | None
        if before is None:
            fixed, error = None, f"{row.file} cannot be read."
        elif row.fix_by == "chiffon":
            fixed, error = await asyncio.to_thread(_chiffon_fix, before, row)
        else:
            fixed, error = await lint.fix(
                self.lint_executable, self._root, row.file, row.rule.split("[")[0],
                self._lint_timeout_s,
            )  # fmt: skip
        if fixed is None and error is None:
            error = "The fix changes nothing here; edit the file by hand."
        changes: dict[str, Any] = {"fix_error": error}
        if fixed is not None and before is not None:
            changes.update(fix_text=fixed, fix_diff=unified_diff(row.file, before, fixed))
        async with self._sessions() as session, session.begin():
            siblings = Suggestion.id == row.id
            if row.fix_by == "ansible-lint":  # one --fix=RULE mends the rule in the whole file
                siblings = (
                    (Suggestion.result_id == row.result_id)
                    & (Suggestion.file == row.file)
                    & Suggestion.rule.startswith(row.rule.split("[")[0])
                    & (Suggestion.fix_by == "ansible-lint")
                    & Suggestion.fix_text.is_(None)
                )
            await session.execute(update(Suggestion).where(siblings).values(**changes))
        return await self.get_suggestion(suggestion_id)

    async def _refuse_if_changed(self, row: Suggestion, entry_ref: str) -> None:
        current = await asyncio.to_thread(file_hash, self._root, row.file)
        if current != row.file_hash:
            raise SuggestionConflict(
                f"{row.file} changed since this suggestion was made, so its fix may no longer "
                f"apply. Re-check {entry_ref} (`chiffon analyze {entry_ref}`) for fresh "
                "suggestions."
            )

    async def accept(
        self, suggestion_id: int, author: str, run_id: int | None = None
    ) -> SuggestionView:
        """Apply the suggestion's fix to the playbook repo and commit it as ``author``.

        Raises ``SuggestionNotFound``, ``SuggestionConflict`` (already decided, or the file
        changed since) and ``AnalyzerError`` (no fix can be computed, bad author)."""
        author = commit_author(author)
        row, result = await self._row(suggestion_id)
        entry_ref = f"{result.entry_kind}:{result.entry_name}"
        if SuggestionStatus(row.status).is_decided:
            raise SuggestionConflict(f"Suggestion {suggestion_id} is already {row.status}.")
        if row.fix_by is None:
            raise AnalyzerError(
                f"Suggestion {suggestion_id} ({row.rule}) has no automatic fix: edit "
                f"{row.file} by hand, then re-check {entry_ref}."
            )
        await self._refuse_if_changed(row, entry_ref)
        view = await self.prepare_fix(suggestion_id)
        row, _ = await self._row(suggestion_id)
        if row.fix_text is None:
            raise AnalyzerError(view.fix_error or "No fix could be computed.")
        where = f"{row.file}:{row.line}" if row.line else row.file
        after = f" after run #{run_id}" if run_id else ""
        message = (
            f"Fix {row.rule} in {where}\n\n{row.message}\n\nSuggested by Chiffon's analyzer"
            f"{after}; accepted by {author}.\nWhy: {row.reasoning}\n"
        )
        try:
            saved = await self._catalog.write_files({row.file: row.fix_text}, message, author)
        except (CatalogError, ValueError) as error:
            raise AnalyzerError(f"The fix could not be written: {error}") from None
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Suggestion)
                .where(
                    Suggestion.result_id == row.result_id,
                    Suggestion.file == row.file,
                    Suggestion.fix_text == row.fix_text,
                    Suggestion.status == str(SuggestionStatus.OPEN),
                )
                .values(
                    status=str(SuggestionStatus.ACCEPTED),
                    decided_by=author,
                    decided_at=utcnow(),
                    commit_sha=saved.commit,
                    run_id=run_id,
                )
            )
        await self._bus.publish(
            SuggestionAccepted(suggestion_id, row.rule, row.file, saved.commit, author)
        )
        return await self.get_suggestion(suggestion_id)

    async def dismiss(self, suggestion_id: int, reason: str, by: str) -> SuggestionView:
        """Dismiss with a reason. Raises ``AnalyzerError`` without one, ``SuggestionConflict``
        when it was already decided, ``SuggestionNotFound``."""
        reason = reason.strip()
        if not reason:
            raise AnalyzerError("Say why this suggestion is dismissed (a reason is required).")
        row, _ = await self._row(suggestion_id)
        if SuggestionStatus(row.status).is_decided:
            raise SuggestionConflict(f"Suggestion {suggestion_id} is already {row.status}.")
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Suggestion)
                .where(Suggestion.id == suggestion_id)
                .values(
                    status=str(SuggestionStatus.DISMISSED),
                    reason=reason[:2000],
                    decided_by=by.strip()[:255] or "anonymous",
                    decided_at=utcnow(),
                )
            )
        return await self.get_suggestion(suggestion_id)

    # -- diagnosis ------------------------------------------------------------------------

    async def diagnose(self, run_id: int, with_suggestions: bool = True) -> Diagnosed:
        """Diagnose the failed run (stored, replacing an earlier diagnosis) and, with
        ``with_suggestions``, analyse its entry. Raises ``AnalyzerError`` for a run that does
        not exist or did not fail."""
        run = await self._executor.get_run(run_id)
        if run is None:
            raise AnalyzerError(f"There is no run {run_id}.")
        if run.status is not RunStatus.FAILED:
            raise AnalyzerError(f"Run {run_id} did not fail (it is {run.status}).")
        entry = await self._run_entry(run)
        finder = FailureFinder(self._root)
        after = 0
        while True:
            page = await self._executor.list_events(run_id, after, _EVENT_PAGE, EVENT_TYPES)
            for event in page:
                finder.add(event)
            if len(page) < _EVENT_PAGE:
                break
            after = page[-1].seq
        view = diagnosis_view(
            run_id,
            finder,
            finder.failure(run.error, run.inventory),
            entry_changed=entry is not None and entry.content_hash != run.entry_hash,
        )
        view = await self._explained(view, run)
        await self._store_diagnosis(view)
        await self._bus.publish(RunDiagnosed(run_id, view.failure_class, run.correlation_id))
        analysis, analysis_error = None, None
        if entry is None:
            analysis_error = (
                f"{run.entry_kind} {run.entry_name} ({run.entry_path}) is no longer in the "
                "catalog, so its playbook cannot be checked."
            )
        elif with_suggestions:
            try:
                analysis = await self.analyze_entry(entry)
            except (OSError, ValueError) as error:  # the diagnosis stands without suggestions
                log.exception("checking %s failed", entry.ref)
                analysis_error = f"The playbook could not be checked: {error}"
        return Diagnosed(view, analysis, analysis_error)

    async def _explained(self, view: DiagnosisView, run: RunView) -> DiagnosisView:
        if self._explainer is None:
            return view
        try:
            narrative = await self._explainer(view, run.correlation_id)
        except Exception:
            log.exception(
                "the explainer failed for run %s", run.id,
                extra={"correlation_id": run.correlation_id},
            )  # fmt: skip
            return view
        data = view.to_json() | {"narrative": narrative}
        return DiagnosisView.from_json(data, view.created_at)

    async def _run_entry(self, run: RunView) -> Entry | None:
        for entry in await self._catalog.list_entries(kind=EntryKind(run.entry_kind)):
            if entry.path == run.entry_path and entry.name == run.entry_name:
                return entry
        return None

    async def _store_diagnosis(self, view: DiagnosisView) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(Diagnosis).where(Diagnosis.run_id == view.run_id))
            session.add(
                Diagnosis(
                    run_id=view.run_id,
                    failure_class=view.failure_class,
                    data=view.to_json(),
                    created_at=view.created_at,
                )
            )

    async def get_diagnosis(self, run_id: int) -> DiagnosisView | None:
        """The stored diagnosis of the run, or None."""
        async with self._sessions() as session:
            row = await session.get(Diagnosis, run_id)
            return DiagnosisView.from_json(row.data, row.created_at) if row else None

    async def diagnosis_of(self, run_id: int) -> Diagnosed:
        """The stored diagnosis with the entry's (cached) suggestions; diagnosed now when none
        is stored. Raises ``AnalyzerError`` like ``diagnose``."""
        stored = await self.get_diagnosis(run_id)
        if stored is None:
            return await self.diagnose(run_id)
        run = await self._executor.get_run(run_id)
        entry = await self._run_entry(run) if run else None
        if entry is None:
            return Diagnosed(stored, None, "The run's entry is no longer in the catalog.")
        # Whether the playbook changed since the run is true now, not when it was diagnosed.
        changed = run is not None and entry.content_hash != run.entry_hash
        stored = dataclasses.replace(stored, entry_changed=changed)
        return Diagnosed(stored, await self.analyze_entry(entry), None)

    async def plan_postmortem(self, plan_id: int) -> PlanPostmortem | None:
        """The failed plan's steps with their runs, and the diagnosis of each failed run (with
        its entry's suggestions); None when there is no such plan. Raises ``AnalyzerError``
        for a plan that did not fail."""
        return await plan_postmortem(
            self._plans, self._executor.get_run, self.diagnosis_of, plan_id
        )

    # -- events ---------------------------------------------------------------------------

    async def when_run_finished_diagnose(self, event: RunFinished) -> None:
        """Diagnose a failed run in the background: the publisher (the executor finishing a
        run) must not wait seconds for ansible-lint."""
        if event.status != RunStatus.FAILED:
            return
        task = asyncio.create_task(self._diagnose_quietly(event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _diagnose_quietly(self, event: RunFinished) -> None:
        try:
            await self.diagnose(event.run_id)
        except Exception:
            log.exception(
                "diagnosing run %s failed", event.run_id,
                extra={"correlation_id": event.correlation_id},
            )  # fmt: skip

    async def wait_idle(self) -> None:
        """Wait for the background diagnoses started so far (tests, the CLI)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel background diagnoses (their linters are killed); ``diagnose`` redoes them."""
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*list(self._pending), return_exceptions=True)


def _chiffon_fix(text: str, row: Suggestion) -> tuple[str | None, str | None]:
    try:
        return chiffon_fix(text, row.file, row.rule, row.line), None
    except YamlSyntaxError as error:
        return None, f"{row.file} is not valid YAML ({error}); fix that first."


__all__ = ["AnalyzerService", "Explainer"]
