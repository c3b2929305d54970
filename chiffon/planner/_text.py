"""Words: tokens, a light stemmer, and the verbs that say what to do rather than to what."""

from __future__ import annotations

import re
from enum import StrEnum

_TOKEN = re.compile(r"[a-z0-9]+")
# "healthchecks.io" names the same thing as "healthchecks".
_DOMAIN_SUFFIX = re.compile(r"\b([a-z0-9]+)\.(io|com|org|net|app|dev|sh)\b")


class Action(StrEnum):
    """What a clause (or an entry's name) asks to do."""

    INSTALL = "install"
    CONFIGURE = "configure"
    REMOVE = "remove"


# Verbs and verb particles: they choose an action, they are not what the request is about.
ACTION_WORDS: dict[str, Action] = {
    "deploy": Action.INSTALL,
    "install": Action.INSTALL,
    "setup": Action.INSTALL,
    "set": Action.INSTALL,
    "bring": Action.INSTALL,
    "spin": Action.INSTALL,
    "launch": Action.INSTALL,
    "start": Action.INSTALL,
    "run": Action.INSTALL,
    "enable": Action.INSTALL,
    "provision": Action.INSTALL,
    "create": Action.INSTALL,
    "configure": Action.CONFIGURE,
    "config": Action.CONFIGURE,
    "configuration": Action.CONFIGURE,
    "reconfigure": Action.CONFIGURE,
    "update": Action.CONFIGURE,
    "change": Action.CONFIGURE,
    "remove": Action.REMOVE,
    "uninstall": Action.REMOVE,
    "delete": Action.REMOVE,
    "destroy": Action.REMOVE,
    "wipe": Action.REMOVE,
    "purge": Action.REMOVE,
    "stop": Action.REMOVE,
    "disable": Action.REMOVE,
    "teardown": Action.REMOVE,
}
DESTRUCTIVE = frozenset(
    {"remove", "delete", "wipe", "destroy", "reset", "uninstall", "purge", "drop", "teardown"}
)
_STOP_TEXT = """a an the my our your their its it this that these those me i we you us to on in
    into at of for from with by as and or then also please up down out off over some any all every
    is are be can could would should will want need like let get make new existing so just
    there here which what who how do does done using use via onto"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_IRREGULAR = {"ads": "ad", "has": "has", "was": "was", "this": "this", "os": "os", "is": "is"}


def fold(text: str) -> str:
    """Lower case, domain suffixes dropped (``healthchecks.io`` -> ``healthchecks``)."""
    return _DOMAIN_SUFFIX.sub(r"\1", text.lower())


def tokens(text: str) -> list[str]:
    """Lower-case alphanumeric runs; hyphens, underscores, dots and spaces all separate."""
    return _TOKEN.findall(fold(text))


def stem(word: str) -> str:
    """A deliberately small suffix stripper: plural, -ing, -ed, -ion, -ly."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ion", ""), ("ed", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + keep
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def content_words(text: str) -> list[str]:
    """Stemmed tokens without stop words and action verbs: what the text is about."""
    return [stem(t) for t in tokens(text) if t not in STOP_WORDS and t not in ACTION_WORDS]


def action_of(words: list[str]) -> Action | None:
    """The action the first action word in ``words`` names ("set up" is install), or None."""
    for word in words:
        if word in ACTION_WORDS:
            return ACTION_WORDS[word]
    return None
