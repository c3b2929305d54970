"""Generated playbooks for clauses nothing in the repo fits (the one Jinja2 adapter for them).

A draft is rendered from ``templates/generated/*.yml.j2``: a container service (``docker
compose`` through ansible.builtin modules, so it needs no collection), a package and its
service, or a skeleton to fill in. Each has a ``# chiffon:`` header with ``generated: true``;
the executor refuses such a playbook until a person marks it ``reviewed: true``.

The templates use ``[[ ]]`` / ``[% %]`` delimiters so that Ansible's own ``{{ }}`` stay as
written; text from the request is reduced to plain words (no braces, no newlines) and quoted.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from chiffon.planner._plan import Draft, PlanStep
from chiffon.planner._text import ACTION_WORDS, STOP_WORDS, Action, action_of, tokens
from chiffon.planner._vars import find_hints

if TYPE_CHECKING:
    import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates" / "generated"
_CONTAINER_WORDS = frozenset({"container", "containers", "docker", "compose", "image", "podman"})
_PACKAGE_WORDS = frozenset({"package", "packages", "apt", "dnf", "yum", "pkg"})
# Words that say what kind of thing, not which thing.
_GENERIC = (
    _CONTAINER_WORDS
    | _PACKAGE_WORDS
    | frozenset({"service", "server", "app", "application", "tool", "port", "host", "hosts"})
)
_DEFAULT_PORT = 8080


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2  # on first draft only: every command imports the planner

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # YAML, not HTML: values are quoted by `quoted` instead
        keep_trailing_newline=True,
    )
    environment.filters["quoted"] = _quoted
    return environment


def _plain(text: str, limit: int = 200) -> str:
    """Request text made safe to show inside YAML and Ansible strings: no braces or
    Jinja/comment marks, one line, at most ``limit`` characters."""
    cleaned = re.sub(r"[{}%#`\\]", " ", text)
    return " ".join(cleaned.split())[:limit]


def _quoted(value: object) -> str:
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(_plain(str(value)))


def service_name(clause: str) -> str:
    """The thing a clause is about, as a file-safe name ("deploy uptime kuma" -> uptime-kuma)."""
    _, rest = find_hints(clause)
    words = [
        t
        for t in tokens(rest)
        if t not in STOP_WORDS and t not in ACTION_WORDS and t not in _GENERIC and not t.isdigit()
    ]
    name = "-".join(words[:3]) or "new-service"
    return name if name[0].isalpha() else f"svc-{name}"


def _template_for(clause: str, action: Action | None, port: int | None) -> str:
    said = set(tokens(clause))
    if said & _CONTAINER_WORDS or (port is not None and action is not Action.REMOVE):
        return "container"
    if said & _PACKAGE_WORDS or action in (Action.INSTALL, Action.REMOVE):
        return "package"
    return "skeleton"


def draft_for(step: PlanStep, root: Path | None = None) -> Draft:
    """The generated playbook for ``step``; with ``root`` (the playbook repo) its path is one
    no file has yet (``kuma.yml``, else ``kuma-generated.yml``, ``kuma-generated-2.yml``...)."""
    hints, _ = find_hints(step.clause)
    action = action_of(tokens(step.clause))
    service = service_name(step.clause)
    template = _template_for(step.clause, action, hints.port)
    verbs = {Action.REMOVE: "Remove", Action.CONFIGURE: "Configure", Action.INSTALL: "Install"}
    verb = "Install" if action is None else verbs[action]
    text = (
        _environment()
        .get_template(f"{template}.yml.j2")
        .render(
            service=service,
            prefix=service.replace("-", "_"),
            description=f"Generated for: {_plain(step.clause)}",
            title=f"{verb} {service}",
            hosts=step.target or "all",
            port=hints.port or _DEFAULT_PORT,
            image=f"docker.io/library/{service}",
            state="absent" if action is Action.REMOVE else "present",
            enabled="false" if action is Action.REMOVE else "true",
        )
    )
    return Draft(path=_free_path(service, root), text=text, service=service, template=template)


def _free_path(service: str, root: Path | None) -> str:
    folder = "playbooks/" if root is not None and (root / "playbooks").is_dir() else ""
    names = [f"{service}.yml", f"{service}-generated.yml"]
    names += [f"{service}-generated-{n}.yml" for n in range(2, 100)]
    for name in names:
        if root is None or not (root / folder / name).exists():
            return folder + name
    return f"{folder}{service}-generated-{len(names)}.yml"
