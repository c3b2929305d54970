"""What the ``chiffon`` command imports: every import is start-up time of every ``chiffon run``."""

from __future__ import annotations

import json
import subprocess
import sys

# Imported only where needed: the web app, the LLM SDK (and pydantic under it), HTTP clients,
# Jinja2 (pages and generated drafts).
HEAVY = ("litestar", "openai", "pydantic", "httpx", "urllib.request", "jinja2")


def _imported_by(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return list(json.loads(done.stdout.splitlines()[-1]))


def test_it_builds_the_services_without_what_only_other_commands_need() -> None:
    modules = _imported_by(
        "import chiffon.cli\nchiffon.cli.import_services()\nimport chiffon.executor.runner"
    )
    assert [name for name in HEAVY if name in modules] == []


def test_it_imports_the_llm_sdk_for_a_chat_client() -> None:
    assert "openai" in _imported_by("import chiffon.planner.llm")


def test_chiffon_run_starts_ansible_playbook_before_the_database_layer_and_asyncio() -> None:
    # `chiffon run` starts ansible-playbook (held) after parsing its arguments and importing
    # the head start: what those import delays the start of every run.
    modules = _imported_by("import chiffon.cli\nimport chiffon.executor.headstart")
    assert [
        name for name in ("sqlalchemy", "asyncio", "alembic", "psutil") if name in modules
    ] == []
    assert "ansible_runner" in modules
