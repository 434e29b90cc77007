"""Similar images, duplicate listings and personalised recommendation over an on-disk vector index."""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "Embedder": "artlens.search.embed",
    "Embeddings": "artlens.search.embed",
    "IndexEntry": "artlens.search.entry",
    "IndexedItem": "artlens.search.index",
    "Profile": "artlens.search.recommend",
    "SearchIndex": "artlens.search.index",
    "UpdateReport": "artlens.search.index",
    "find_duplicates": "artlens.search.duplicates",
    "find_similar": "artlens.search.similar",
    "hamming_distances": "artlens.search.phash",
    "mmr": "artlens.search.recommend",
    "phash": "artlens.search.phash",
    "recommend": "artlens.search.recommend",
    "render": "artlens.search.report",
    "rocchio": "artlens.search.recommend",
})
