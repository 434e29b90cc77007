"""Similar images, duplicate listings and personalised recommendation over an on-disk vector index."""

from __future__ import annotations

from artlens.search.duplicates import find_duplicates
from artlens.search.embed import Embedder, Embeddings
from artlens.search.index import IndexedItem, SearchIndex, UpdateReport
from artlens.search.keeper import KeepRule
from artlens.search.phash import hamming_distances, phash
from artlens.search.recommend import Profile, mmr, recommend, rocchio
from artlens.search.report import render
from artlens.search.similar import find_similar

__all__ = [
    "Embedder",
    "Embeddings",
    "IndexedItem",
    "KeepRule",
    "Profile",
    "SearchIndex",
    "UpdateReport",
    "find_duplicates",
    "find_similar",
    "hamming_distances",
    "mmr",
    "phash",
    "recommend",
    "render",
    "rocchio",
]
