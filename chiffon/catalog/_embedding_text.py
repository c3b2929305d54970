"""What an entry says about itself, as one short text to embed, and its key in the index.

The text is the entry's description (without the catalog's own boilerplate), then its name in
words, its service and role when they add something, and tags that are not the name. Verbs that
say what to do ("deploy", "remove") are left out of names and the head of the description: the
planner reads the action apart, and in the text they only pull every deploy-something entry
towards every deploy-something request. Task and
variable names are left out: in real repos they are mostly "Create the data directory" and
``x_data_directory``, the same words in every entry, and on the development set and the bundled
repo they drowned the meaning (fewer right entries first). BM25 reads them instead.
"""

from __future__ import annotations

import hashlib
import re

from chiffon.catalog._entry import Entry

_WORDS = re.compile(r"[A-Za-z0-9]+")
_VERBS = frozenset(
    {
        "deploy",
        "install",
        "setup",
        "set",
        "up",
        "remove",
        "uninstall",
        "update",
        "upgrade",
        "configure",
        "run",
        "create",
        "delete",
        "apply",
        "add",
        "write",
        "start",
        "stop",
        "enable",
        "disable",
    }
)
# What discovery writes for a site playbook's tag: "Applies role x (site.yml --tags x)".
_HOW_TO_RUN = re.compile(r"\s*\([^()]*--tags [^()]*\)\s*$")
_APPLIES = re.compile(r"^Applies roles? [^.;]*$")
# A site playbook's tags name the roles it applies (each its own entry): they would make the
# whole site look like each of them. Lexical matching draws the same line.
_MOST_TAGS = 2


def entry_key(entry: Entry) -> str:
    """The entry's key in the embedding index: kind, name and path (unique in a catalog)."""
    return f"{entry.kind}:{entry.name}@{entry.path}"


def _words(text: str) -> str:
    return " ".join(_WORDS.findall(text))


def _without_verbs(name: str) -> str:
    said = _words(name)
    return " ".join(w for w in said.split() if w.lower() not in _VERBS) or said


def _description(entry: Entry) -> str:
    text = _APPLIES.sub("", _HOW_TO_RUN.sub("", entry.description)).strip()
    first, _, rest = text.partition(" ")
    if first.lower() in _VERBS and rest:
        text = rest[0].upper() + rest[1:]
    return text


def entry_text(entry: Entry) -> str:
    """One line: ``description. name. service. tags``, each part once."""
    parts: list[str] = []
    for part in (entry.name, entry.service or "", entry.role or ""):
        said = _without_verbs(part)
        if said and said.lower() not in {p.lower() for p in parts}:
            parts.append(said)
    named = {p.lower() for p in parts}
    description = _description(entry)
    if description:
        parts.insert(0, description)
    tags = [_words(t) for t in entry.tags if _words(t) and _words(t).lower() not in named]
    if tags and len(entry.tags) <= _MOST_TAGS:
        parts.append(", ".join(tags))
    return ". ".join(parts)


def text_digest(text: str) -> str:
    """The content hash an embedded text is stored under."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]
