"""Nearest neighbours of query images in an index: "more like this"."""

from __future__ import annotations

import os
from collections.abc import Sequence

from artlens.errors import ArtlensError
from artlens.imageio import DEFAULT_MAX_PIXELS
from artlens.search.index import SearchIndex

__all__ = ["find_similar"]

SCHEMA = "artlens.similar/1"


def find_similar(index: SearchIndex, queries: Sequence[str | os.PathLike[str]], k: int = 10, *,
                 by: str = "content", max_pixels: int = DEFAULT_MAX_PIXELS) -> dict:
    """The ``k`` most similar indexed images for each query.

    Parameters
    ----------
    index
        An open index.
    queries
        Indexed paths (their stored vectors are used and the item itself is left out of its results) or any
        image files (embedded with the index's backbone).
    k
        Results per query.
    by
        ``content`` (what is shown) or ``style`` (how it looks; needs an index built with style features).
    max_pixels
        Larger query images are refused.

    Returns
    -------
    dict
        ``{"schema": "artlens.similar/1", "index", "by", "k", "queries": [{"query", "indexed", "results":
        [{"rank", "id", "path", "score"}]}], "errors": [{"query", "error"}]}``; ``score`` is the cosine
        similarity in [-1, 1], results best first. A query that cannot be used is listed in ``errors`` and the
        others go on.

    Raises
    ------
    ArtlensError
        The index is empty or has no vectors of kind ``by``.
    """
    if len(index) == 0:
        raise ArtlensError(f"index {index.folder} is empty; add images with "
                           f"`artlens index add PATH... --index {index.folder}`")
    index.faiss_index(by)  # fails early on a missing style field
    answers, errors = [], []
    for query in queries:
        try:
            vector, item = index.query_vector(query, by, max_pixels=max_pixels)
        except ArtlensError as exc:
            errors.append({"query": str(query), "error": str(exc)})
            continue
        hits = index.search(vector, k, by=by, exclude=[item.id] if item else [])[0]
        found = {it.id: it for it in index.items(i for i, _ in hits)}
        answers.append({
            "query": str(query), "indexed": item is not None, "path": item.path if item else str(query),
            "results": [{"rank": r + 1, "id": i, "path": found[i].path, "score": round(s, 6)}
                        for r, (i, s) in enumerate(hits) if i in found],
        })
    return {"schema": SCHEMA, "index": str(index.folder), "by": by, "k": k, "queries": answers,
            "errors": errors}
