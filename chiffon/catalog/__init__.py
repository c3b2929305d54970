"""Catalog: what the playbook repo offers (playbooks, roles, tags of site playbooks).

Discovery walks the repo and parses its YAML on a worker thread; the service stores entries in
the database and keeps them fresh by content hash.
"""

from chiffon.catalog._entry import (
    CatalogError,
    Entry,
    EntryKind,
    EntryNotFound,
    Inventory,
    PathOutsideRepo,
    Saved,
    ScanResult,
    Variable,
)
from chiffon.catalog.service import CatalogService

__all__ = [
    "CatalogError",
    "CatalogService",
    "Entry",
    "EntryKind",
    "EntryNotFound",
    "Inventory",
    "PathOutsideRepo",
    "Saved",
    "ScanResult",
    "Variable",
]
