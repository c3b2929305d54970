"""A plan's audit record and the audit list's filter, as pure values."""

from __future__ import annotations

import datetime as dt

import pytest

from chiffon.approval import ChangeView
from chiffon.audit import AuditFilterError, parse_filter, plan_record, record_bytes
from chiffon.planner import PlanRecord, PlanStatus, RiskLevel, StepRecord, StepState, StepStatus

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
SECRET_STEP = {"vars": {"db_password": "hunter22", "port": 80}}


def make_plan(**changes: object) -> PlanRecord:
    step = StepRecord(
        position=0,
        clause="deploy kuma",
        match=StepStatus.MATCHED,
        entry={"kind": "playbook", "name": "kuma", "path": "kuma.yml", "role": None, "tags": []},
        entry_hash="ab" * 32,
        confidence=0.9,
        candidates=[],
        vars={"db_password": "hunter22", "port": 80},
        target=None,
        depends_on=[],
        estimated_s=None,
        state=StepState.SUCCEEDED,
        run_id=4,
        preview_run_id=None,
    )
    values: dict[str, object] = dict(
        id=9,
        correlation_id="c9",
        request="deploy kuma",
        requester="ada",
        status=PlanStatus.SUCCEEDED,
        planner="deterministic",
        risk_level=RiskLevel.LOW,
        risk_reasons=[],
        estimated_s=None,
        version=3,
        decided_by="bob",
        decided_at=T0,
        reason=None,
        preview=None,
        error=None,
        audit_commit=None,
        created_at=T0,
        finished_at=T0 + dt.timedelta(seconds=5),
        steps=(step,),
        proposed={"request": "deploy kuma", "steps": [SECRET_STEP]},
    )
    values.update(changes)
    return PlanRecord(**values)  # type: ignore[arg-type]


def test_it_redacts_secret_looking_vars_everywhere_in_a_plan_record() -> None:
    change = ChangeView("carol", "modified", {"vars": {"1": {"db_password": "hunter22"}}}, T0)

    record = plan_record(make_plan(), [change], {4: "f" * 40})

    assert b"hunter22" not in record_bytes(record)
    assert record["steps"][0]["vars"] == {"db_password": "********", "port": 80}
    assert record["runs"] == [{"step": 1, "run_id": 4, "audit_commit": "f" * 40}]


def test_it_leaves_out_what_changes_after_the_commit() -> None:
    first = record_bytes(plan_record(make_plan(), [], {4: "f" * 40}))
    later = record_bytes(
        plan_record(make_plan(version=9, audit_commit="e" * 40), [], {4: "f" * 40})
    )

    assert first == later


def test_it_reads_dates_with_the_to_day_included() -> None:
    wanted = parse_filter(since="2025-03-01", until="2025-03-01", status=" Failed ", person=" bob ")

    assert wanted.since == dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    assert wanted.until == dt.datetime(2025, 3, 2, tzinfo=dt.UTC)
    assert (wanted.status, wanted.person) == ("failed", "bob")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"since": "03/01/2025"}, "from must be a date"),
        ({"until": "tomorrow"}, "to must be a date"),
        ({"since": "2025-03-02", "until": "2025-03-01"}, "must be before to"),
        ({"status": "running"}, "status must be one of"),
        ({"person": "x" * 256}, "person is too long"),
        ({"page": 0}, "page must be from 1"),
    ],
)
def test_it_refuses_bad_filters_naming_them(values: dict[str, object], message: str) -> None:
    with pytest.raises(AuditFilterError, match=message):
        parse_filter(**values)  # type: ignore[arg-type]
