"""Failure classes: how an ansible error message maps to a class, its explanation and remedy.

Pure functions over the failing event's text; ``_diagnose`` finds that event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class FailureClass(StrEnum):
    UNREACHABLE = "unreachable"
    PERMISSION = "permission"
    UNDEFINED_VARIABLE = "undefined_variable"
    MISSING_MODULE = "missing_module"
    PACKAGE_NOT_FOUND = "package_not_found"
    SYNTAX = "syntax"
    MISSING_HANDLER = "missing_handler"
    TIMEOUT = "timeout"
    NONZERO = "nonzero"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _TITLES[self]


_TITLES = {
    FailureClass.UNREACHABLE: "Unreachable host",
    FailureClass.PERMISSION: "Authentication / permission",
    FailureClass.UNDEFINED_VARIABLE: "Undefined variable",
    FailureClass.MISSING_MODULE: "Missing module or collection",
    FailureClass.PACKAGE_NOT_FOUND: "Package not found",
    FailureClass.SYNTAX: "Syntax / template error",
    FailureClass.MISSING_HANDLER: "Missing handler",
    FailureClass.TIMEOUT: "Timeout",
    FailureClass.NONZERO: "Command returned non-zero",
    FailureClass.OTHER: "Other failure",
}

_HANDLER = re.compile(r"requested handler '([^']+)' was not found", re.I)
_MODULE = re.compile(
    r"couldn't resolve module/action '([^']+)'|The module ([\w.]+) was not found"
    r"|the role '([^']+)' was not found|Failed to import the required Python library"
    r"|No module named|was not found in configured module paths",
    re.I,
)
_UNDEFINED = re.compile(r"'([A-Za-z_][\w]*)' is undefined|undefined variable", re.I)
_SYNTAX = re.compile(
    r"Syntax error in template|TemplateSyntaxError|Syntax Error while loading YAML"
    r"|template error while templating|did not find expected|mapping values are not allowed"
    r"|could not find expected|found unexpected end of stream|is not a valid attribute",
    re.I,
)
_PACKAGE = re.compile(
    r"No package matching '?([^'\s]+)|No package ([^\s]+) available|Unable to find a match"
    r"|has no installation candidate|Unable to locate package ([^\s]+)|No matching distribution",
    re.I,
)
_PERMISSION = re.compile(
    r"Permission denied|Authentication failed|Missing sudo password|Incorrect sudo password"
    r"|incorrect password|Operation not permitted|privilege escalation|Access denied"
    r"|not in the sudoers|a password is required",
    re.I,
)
_UNREACHABLE = re.compile(
    r"Failed to connect to the host|No route to host|Could not resolve hostname"
    r"|Connection refused|Network is unreachable|Host is unreachable",
    re.I,
)
_TIMEOUT = re.compile(r"timed out|timeout", re.I)
_NONZERO = re.compile(r"non-zero return code|non-zero exit", re.I)
_COLLECTION = re.compile(r"^([a-z0-9_]+)\.([a-z0-9_]+)\.[\w.]+$")


@dataclass(frozen=True)
class Failure:
    """What is known of the failure; every field may be empty."""

    event_type: str
    text: str  # the error message, stderr and output together
    host: str | None = None
    task: str | None = None
    module: str | None = None
    file: str | None = None
    line: int | None = None
    rc: int | None = None
    role: str | None = None
    inventory: str | None = None


@dataclass(frozen=True)
class Classified:
    failure_class: FailureClass
    subject: str | None  # the variable, module, handler or package the message names
    explanation: str
    remedy: str


def classify(failure: Failure) -> Classified:
    """The class of ``failure`` with a plain-language explanation and a concrete remedy."""
    text = failure.text
    if match := _HANDLER.search(text):
        return _missing_handler(failure, match[1])
    if match := _MODULE.search(text):
        name = next((group for group in match.groups() if group), None)
        return _missing_module(failure, name)
    if match := _UNDEFINED.search(text):
        return _undefined(failure, match[1])
    if _SYNTAX.search(text):
        return _syntax(failure)
    if match := _PACKAGE.search(text):
        return _package(failure, next((g for g in match.groups() if g), None))
    if _PERMISSION.search(text):
        return _permission(failure)
    if failure.event_type == "runner_on_unreachable" or _UNREACHABLE.search(text):
        return _unreachable(failure)
    if _TIMEOUT.search(text):
        return _timeout(failure)
    if _NONZERO.search(text) or (failure.rc not in (None, 0) and failure.module in _COMMANDS):
        return _nonzero(failure)
    return _other(failure)


_COMMANDS = {
    f"{prefix}{name}"
    for prefix in ("", "ansible.builtin.", "ansible.legacy.")
    for name in ("command", "shell", "raw", "script")
}


def _where(failure: Failure) -> str:
    if failure.file and failure.line:
        return f"{failure.file}:{failure.line}"
    return failure.file or "the playbook"


def _host(failure: Failure) -> str:
    return failure.host or "the host"


def _missing_handler(failure: Failure, handler: str) -> Classified:
    role = f"roles/{failure.role}/handlers/main.yml" if failure.role else "the play's `handlers:`"
    return Classified(
        FailureClass.MISSING_HANDLER,
        handler,
        f"The task at {_where(failure)} notifies the handler '{handler}', but no handler has "
        "that name (or listens to it), so Ansible stopped when the task reported a change.",
        f"Add a handler named '{handler}' to {role}, or correct the `notify:` name at "
        f"{_where(failure)} to match an existing handler exactly (names are case-sensitive; "
        "a handler can also answer several names with `listen:`).",
    )


def _missing_module(failure: Failure, name: str | None) -> Classified:
    shown = f"'{name}'" if name else "a module"
    if name and (match := _COLLECTION.match(name)):
        collection = f"{match[1]}.{match[2]}"
        remedy = (
            f"Install the collection on this machine: `ansible-galaxy collection install "
            f"{collection}`, and list it in the playbook repo's requirements.yml "
            f"(collections: - name: {collection}) so every machine gets it."
        )
    elif name and "/" not in name and "." not in name:
        remedy = (
            f"Check the spelling of {shown} at {_where(failure)}, or write its fully-qualified "
            f"name (e.g. ansible.builtin.{name}); if it comes from a collection, install that "
            "collection with `ansible-galaxy collection install NAMESPACE.COLLECTION`."
        )
    else:
        remedy = (
            f"Install what provides {shown} (`ansible-galaxy collection install` for a "
            "collection, `ansible-galaxy role install` for a role, or the Python library on "
            f"the target host), or fix the name at {_where(failure)}."
        )
    return Classified(
        FailureClass.MISSING_MODULE,
        name,
        f"Ansible could not find {shown} used at {_where(failure)}: the module, role or "
        "collection is not installed here, or its name is misspelled.",
        remedy,
    )


def _undefined(failure: Failure, variable: str | None) -> Classified:
    name = variable or "the variable"
    where = (
        f"roles/{failure.role}/defaults/main.yml (the role's default)"
        if failure.role
        else "the play's `vars:`"
    )
    return Classified(
        FailureClass.UNDEFINED_VARIABLE,
        variable,
        f"The task at {_where(failure)} uses {name}, which has no value for {_host(failure)}: "
        "it is not set in the play, the inventory, group_vars, host_vars or the extra vars.",
        f"Set {name}: in group_vars/all.yml (every host) or group_vars/<group>.yml / "
        f"host_vars/{failure.host or '<host>'}.yml in the playbook repo, in {where}, or for "
        f"this run only with `-e {variable or 'name'}=VALUE`. If it may be absent, write "
        f"`{{{{ {variable or 'name'} | default('...') }}}}`.",
    )


def _syntax(failure: Failure) -> Classified:
    return Classified(
        FailureClass.SYNTAX,
        None,
        f"The YAML or a Jinja2 expression at {_where(failure)} is malformed, so Ansible could "
        "not read or render it.",
        f"Fix the expression at {_where(failure)} as the error below describes (an unclosed "
        "bracket or quote, an operator without a value, a filter name that does not exist); "
        "`ansible-playbook --syntax-check` and `chiffon analyze` find such errors before a run.",
    )


def _package(failure: Failure, package: str | None) -> Classified:
    name = package or "the package"
    return Classified(
        FailureClass.PACKAGE_NOT_FOUND,
        package,
        f"The package manager on {_host(failure)} has no package called {name}.",
        f"Check the package name for that distribution (`apt-cache search {name}` or "
        f"`dnf search {name}`), refresh the package cache first (`update_cache: true` on the "
        "task), or enable the repository that provides it.",
    )


def _permission(failure: Failure) -> Classified:
    return Classified(
        FailureClass.PERMISSION,
        None,
        f"{_host(failure)} refused the login or the action: the SSH user, key or become "
        "(sudo) password is wrong, or the user may not touch that file.",
        "Check `ansible_user` and `ansible_ssh_private_key_file` for the host in the "
        "inventory, add `become: true` to the task (with `ansible_become_password` kept in a "
        "vault) when it needs root, and the owner and mode of the file it touches.",
    )


def _unreachable(failure: Failure) -> Classified:
    inventory = failure.inventory or "the inventory"
    return Classified(
        FailureClass.UNREACHABLE,
        failure.host,
        f"Ansible could not connect to {_host(failure)}: it is down, its address is wrong, "
        "or SSH is blocked between this machine and it.",
        f"Check that {_host(failure)} is up and reachable from here "
        f"(`ansible {failure.host or 'HOST'} -m ping -i {inventory}`), its `ansible_host` and "
        f"`ansible_port` in {inventory}, and the SSH user and key.",
    )


def _timeout(failure: Failure) -> Classified:
    return Classified(
        FailureClass.TIMEOUT,
        None,
        f"The task at {_where(failure)} on {_host(failure)} did not finish in time.",
        "Find out why it is slow on the host; if it is simply long, raise the task's "
        "`timeout:` (or run it with `async:` and `poll:`), or the connection's "
        "`ansible_timeout`.",
    )


def _nonzero(failure: Failure) -> Classified:
    rc = f" {failure.rc}" if failure.rc is not None else ""
    return Classified(
        FailureClass.NONZERO,
        None,
        f"The command of the task at {_where(failure)} exited with code{rc} on "
        f"{_host(failure)}; Ansible treats any code but 0 as a failure.",
        f"Read its stderr below and run the command by hand on {_host(failure)}. If that "
        "exit code is expected, say so with `failed_when:` (e.g. "
        "`failed_when: result.rc not in [0, 1]` with `register: result`).",
    )


def _other(failure: Failure) -> Classified:
    return Classified(
        FailureClass.OTHER,
        None,
        f"The task at {_where(failure)} failed on {_host(failure)} for a reason Chiffon does "
        "not recognise.",
        "Read the task's output below; run the playbook again with more detail "
        "(`ansible-playbook -vvv`) if the message is not enough.",
    )
