"""Rule id -> category and the sentence that says why a finding matters.

The README's table is this one; a rule not listed falls to its category's default reason, and
an unknown rule to "standards".
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    IDEMPOTENCY = "idempotency"
    ERROR_HANDLING = "error handling"
    PERFORMANCE = "performance"
    BEST_PRACTICES = "best practices"
    STANDARDS = "standards"


# rule (the part before "[") -> (category, why it matters)
RULES: dict[str, tuple[Category, str]] = {
    "no-changed-when": (
        Category.IDEMPOTENCY,
        "A command without changed_when or creates reports 'changed' on every run, so a "
        "re-run never looks clean and handlers fire for nothing.",
    ),
    "package-latest": (
        Category.IDEMPOTENCY,
        "state: latest upgrades the package whenever a new version appears, so the same "
        "playbook gives different hosts different versions and surprise restarts.",
    ),
    "latest": (
        Category.IDEMPOTENCY,
        "Checking out the newest revision makes every run potentially different; pin a version.",
    ),
    "no-handler": (
        Category.IDEMPOTENCY,
        "A task that runs 'when: result.changed' is a handler in disguise; a handler runs once, "
        "at the right time, even when several tasks notify it.",
    ),
    "run-once": (
        Category.PERFORMANCE,
        "run_once does not behave as expected with the free strategy and can run on every host.",
    ),
    "chiffon-package-loop": (
        Category.PERFORMANCE,
        "Installing packages one loop item at a time runs the package manager once per item; "
        "a list given to name: installs them in one transaction, many times faster.",
    ),
    "ignore-errors": (
        Category.ERROR_HANDLING,
        "ignore_errors hides every failure of the task, including the ones you did not expect; "
        "failed_when states which results are acceptable.",
    ),
    "risky-shell-pipe": (
        Category.ERROR_HANDLING,
        "Without pipefail a shell pipeline succeeds when an early command fails, so the task "
        "reports success on bad output.",
    ),
    "chiffon-missing-handler": (
        Category.ERROR_HANDLING,
        "Ansible stops the play with an error when a task that changed something notifies a "
        "handler that does not exist.",
    ),
    "load-failure": (
        Category.ERROR_HANDLING,
        "Ansible cannot read this file at all, so nothing in it can run.",
    ),
    "syntax-check": (
        Category.ERROR_HANDLING,
        "ansible-playbook --syntax-check rejects this file, so the playbook cannot run.",
    ),
    "parser-error": (
        Category.ERROR_HANDLING,
        "Ansible cannot parse this file, so the playbook cannot run.",
    ),
    "internal-error": (
        Category.ERROR_HANDLING,
        "ansible-lint could not process this file; it may not load in Ansible either.",
    ),
    "chiffon-syntax": (
        Category.ERROR_HANDLING,
        "This file is not valid YAML, so Ansible cannot load the playbook at all.",
    ),
    "args": (
        Category.ERROR_HANDLING,
        "A module given arguments it does not accept fails when the task runs.",
    ),
    "command-instead-of-module": (
        Category.BEST_PRACTICES,
        "A module knows the current state and changes only what differs; a command cannot.",
    ),
    "command-instead-of-shell": (
        Category.BEST_PRACTICES,
        "shell runs through /bin/sh, with its quoting and injection pitfalls, when command "
        "would do.",
    ),
    "no-free-form": (
        Category.BEST_PRACTICES,
        "Free-form arguments are parsed by splitting a string; named arguments are checked.",
    ),
    "risky-file-permissions": (
        Category.BEST_PRACTICES,
        "Without an explicit mode a created file gets whatever the umask leaves, which may be "
        "readable by everyone.",
    ),
    "no-log-password": (
        Category.BEST_PRACTICES,
        "A password in a looped task's items is printed in the log unless no_log is set.",
    ),
    "no-jinja-when": (
        Category.BEST_PRACTICES,
        "when: is already a Jinja expression; braces inside it are deprecated and error-prone.",
    ),
    "partial-become": (
        Category.BEST_PRACTICES,
        "become_user without become: true silently does not switch user.",
    ),
    "deprecated-module": (
        Category.BEST_PRACTICES,
        "A deprecated module will disappear from a future Ansible release.",
    ),
    "inline-env-var": (
        Category.BEST_PRACTICES,
        "command does not read VAR=value prefixes; use the environment: keyword.",
    ),
    "literal-compare": (
        Category.BEST_PRACTICES,
        "Comparing to True or False literally is easy to get wrong; test the value itself.",
    ),
    "var-naming": (
        Category.BEST_PRACTICES,
        "Variables named without a clear, lowercase, role-prefixed name collide across roles.",
    ),
    "name": (
        Category.STANDARDS,
        "Task names are what the log, the run page and the post-mortem show; a missing or "
        "badly cased name makes a failure harder to find.",
    ),
    "chiffon-unnamed-task": (
        Category.STANDARDS,
        "An unnamed task shows up in the log as its module and arguments, so a failure in it "
        "is hard to place.",
    ),
    "fqcn": (
        Category.STANDARDS,
        "A short module name may resolve to a different collection's module; the "
        "fully-qualified name always means the same one.",
    ),
    "yaml": (
        Category.STANDARDS,
        "Consistent YAML formatting keeps diffs small and reviews about content.",
    ),
    "jinja": (
        Category.STANDARDS,
        "Consistently spaced Jinja expressions are easier to read and review.",
    ),
    "key-order": (
        Category.STANDARDS,
        "name first and block keys last make a task read top to bottom.",
    ),
    "schema": (
        Category.STANDARDS,
        "A key that the schema does not know is most likely a typo that Ansible ignores or "
        "rejects.",
    ),
}

# Chiffon's own checks and the ansible-lint rule that says the same thing, so that a finding
# both report is shown once (ansible-lint's, carrying Chiffon's fix when it has none).
SAME_AS_LINT = {
    "chiffon-command-changed": "no-changed-when",
    "chiffon-package-latest": "package-latest",
    "chiffon-unnamed-task": "name[missing]",
    "chiffon-syntax": "load-failure",
}
RULES["chiffon-command-changed"] = RULES["no-changed-when"]
RULES["chiffon-package-latest"] = RULES["package-latest"]

# ansible-lint rules that its own --fix can repair (the rest need Chiffon's edits or a person).
LINT_FIXABLE = frozenset(
    {
        "command-instead-of-shell",
        "deprecated-local-action",
        "fqcn",
        "jinja",
        "key-order",
        "name",
        "no-free-form",
        "no-jinja-when",
        "no-log-password",
        "partial-become",
        "yaml",
    }
)


def rule_base(rule: str) -> str:
    return rule.split("[", 1)[0]


def category_of(rule: str) -> Category:
    known = RULES.get(rule) or RULES.get(rule_base(rule))
    return known[0] if known else Category.STANDARDS


def reasoning_of(rule: str, fallback: str) -> str:
    known = RULES.get(rule) or RULES.get(rule_base(rule))
    if known:
        return known[1]
    return (
        f"ansible-lint flags this ({fallback.rstrip('.')}); following it keeps the repo consistent."
    )
