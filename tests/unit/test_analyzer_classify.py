"""Failure classes from ansible's messages, and finding the failure among a run's events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from chiffon.analyzer._classify import Failure, FailureClass, classify
from chiffon.analyzer._diagnose import FailureFinder
from chiffon.executor import EventView


@pytest.mark.parametrize(
    ("event_type", "text", "expected", "subject"),
    [
        ("runner_on_unreachable", "Failed to connect to the host via ssh", "unreachable", None),
        ("runner_on_failed", "sudo: a password is required", "permission", None),
        ("runner_on_unreachable", "Permission denied (publickey,password).", "permission", None),
        ("runner_on_failed", "'db_port' is undefined", "undefined_variable", "db_port"),
        ("error", "couldn't resolve module/action 'x.y.z'", "missing_module", "x.y.z"),
        (
            "runner_on_failed",
            "No package matching 'ngnix' is available",
            "package_not_found",
            "ngnix",
        ),
        ("runner_on_failed", "Syntax error in template: unexpected '}'", "syntax", None),
        ("error", "The requested handler 'Reload' was not found", "missing_handler", "Reload"),
        ("runner_on_failed", "Timeout (12s) waiting for privilege escalation", "permission", None),
        ("runner_on_failed", "command timed out after 30 seconds", "timeout", None),
        ("runner_on_failed", "non-zero return code", "nonzero", None),
        ("runner_on_failed", "something odd", "other", None),
    ],
)
def test_it_classifies_ansible_messages(
    event_type: str, text: str, expected: str, subject: str | None
) -> None:
    found = classify(Failure(event_type=event_type, text=text, file="x.yml", line=3))

    assert found.failure_class == FailureClass(expected)
    assert found.subject == subject
    assert found.explanation and found.remedy


def test_it_names_the_collection_to_install_and_where_to_set_a_variable() -> None:
    module = classify(Failure("error", "couldn't resolve module/action 'community.docker.x'"))
    variable = classify(Failure("runner_on_failed", "'port' is undefined", role="web"))

    assert "ansible-galaxy collection install community.docker" in module.remedy
    assert "roles/web/defaults/main.yml" in variable.remedy
    assert "-e port=VALUE" in variable.remedy


def _event(seq: int, kind: str, data: dict[str, Any] | None = None, **fields: Any) -> EventView:
    return EventView(
        run_id=1,
        seq=seq,
        type=kind,
        host=fields.get("host"),
        task=fields.get("task"),
        stdout=fields.get("stdout", ""),
        data=data or {},
        created_at=dt.datetime.now(dt.UTC),
    )


def test_it_skips_ignored_failures_and_reads_item_failures(tmp_path: Path) -> None:
    path = f"{tmp_path}/site.yml:12"
    finder = FailureFinder(tmp_path)
    ignored = {"ignore_errors": True, "result": {"msg": "ignored"}, "task_path": path}
    finder.add(_event(1, "runner_on_failed", ignored, host="a", task="T0"))
    item = {"result": {"msg": "No package matching 'ngnix'"}, "task_path": path}
    finder.add(_event(2, "runner_item_on_failed", item, host="a", task="Install"))
    failed = {
        "result": {"msg": "One or more items failed"},
        "task_path": path,
        "task_action": "ansible.builtin.apt",
    }
    finder.add(_event(3, "runner_on_failed", failed, host="a", task="Install"))
    finder.add(_event(4, "runner_on_failed", failed, host="b", task="Install"))

    failure = finder.failure()
    assert (failure.file, failure.line, failure.host) == ("site.yml", 12, "b")
    assert classify(failure).failure_class is FailureClass.PACKAGE_NOT_FOUND
    assert finder.failed_hosts("Install") == ["a", "b"]


def test_it_reads_errors_printed_before_any_task(tmp_path: Path) -> None:
    finder = FailureFinder(tmp_path)
    finder.add(
        _event(1, "verbose", stdout="\x1b[0;31m[ERROR]: couldn't resolve module/action 'a.b.c'")
    )
    finder.add(_event(2, "verbose", stdout=f"Origin: {tmp_path}/play.yml:5:7"))

    failure = finder.failure()
    assert (failure.file, failure.line) == ("play.yml", 5)
    assert classify(failure).subject == "a.b.c"


def test_it_falls_back_to_the_runs_own_error(tmp_path: Path) -> None:
    failure = FailureFinder(tmp_path).failure("The run timed out.")

    assert classify(failure).failure_class is FailureClass.TIMEOUT
