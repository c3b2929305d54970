"""Catalog: what the playbook repo offers (playbooks, roles, tags of site playbooks).

Discovery walks the repo and parses its YAML on a worker thread; the service stores entries in
the database and keeps them fresh by content hash. The embedding index (``EmbeddingIndex``,
held by the service as ``embeddings``) lets the planner find entries by what they mean.

The service and the index (the database layer, the embedding model) load on first use, so
that ``chiffon run`` can read the repo's files before it imports them (its head start).
"""

from typing import TYPE_CHECKING

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
from chiffon.catalog._files import YAML_SUFFIXES, inside, inventories
from chiffon.catalog._model import packaged_model_present
from chiffon.lib.lazy import lazy_names

if TYPE_CHECKING:
    from chiffon.catalog.index import EmbeddingIndex, IndexUpdate, Progress, Similar
    from chiffon.catalog.service import CatalogService

__getattr__ = lazy_names(
    __name__,
    {
        "CatalogService": "service",
        "EmbeddingIndex": "index",
        "IndexUpdate": "index",
        "Progress": "index",
        "Similar": "index",
    },
)

__all__ = [
    "YAML_SUFFIXES",
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
    "inside",
    "inventories",
    "packaged_model_present",
]
