"""Catalog: what the playbook repo offers (playbooks, roles, tags of site playbooks).

Discovery walks the repo and parses its YAML on a worker thread; the service stores entries in
the database and keeps them fresh by content hash. The embedding index (``EmbeddingIndex``,
held by the service as ``embeddings``) lets the planner find entries by what they mean.
"""

from chiffon.catalog._embedding_text import entry_key
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
from chiffon.catalog._model import packaged_model_present
from chiffon.catalog.index import EmbeddingIndex, IndexUpdate, Progress, Similar
from chiffon.catalog.service import CatalogService

__all__ = [
    "CatalogError",
    "CatalogService",
    "EmbeddingIndex",
    "Entry",
    "EntryKind",
    "EntryNotFound",
    "IndexUpdate",
    "Inventory",
    "PathOutsideRepo",
    "Progress",
    "Saved",
    "ScanResult",
    "Similar",
    "Variable",
    "entry_key",
    "packaged_model_present",
]
