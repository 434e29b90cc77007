"""Duplicate listings in an index: exact copies, near-identical copies and visual near-duplicates.

Nothing is ever deleted: the result is a report of groups, each with a suggested file to keep and why
(:mod:`artlens.search.keeper`: the compliance verdict, then quality, then resolution, then bytes).
"""

from __future__ import annotations

import time

import faiss
import numpy as np

from artlens.errors import ConfigError
from artlens.search import ann
from artlens.search.index import IndexedItem, SearchIndex
from artlens.search.keeper import KeepRule, assess_members, choose_keeper
from artlens.search.unionfind import UnionFind

__all__ = ["DEFAULT_HASH_THRESHOLD", "DEFAULT_THRESHOLD", "find_duplicates"]

SCHEMA = "artlens.duplicates/1"
#: Largest cosine distance (1 - cosine of content embeddings) between visual near-duplicates.
DEFAULT_THRESHOLD = 0.12
#: Largest Hamming distance (of 64 bits) between perceptual hashes of near-identical images.
DEFAULT_HASH_THRESHOLD = 8
_KINDS = ("exact", "near-identical", "visual")
_CHUNK = 4096


def _phash_pairs(items: list[IndexedItem], max_bits: int) -> list[tuple[int, int, int]]:
    """Pairs of item ids whose perceptual hashes differ in at most ``max_bits`` bits, with the distance."""
    if len(items) < 2:
        return []
    codes = np.asarray([it.phash for it in items], np.int64).astype(">i8").view(np.uint8).reshape(-1, 8)
    ids = np.asarray([it.id for it in items], np.int64)
    binary = faiss.IndexBinaryFlat(64)
    binary.add(codes)
    pairs = []
    for start in range(0, len(items), _CHUNK):
        lims, dist, found = binary.range_search(codes[start:start + _CHUNK], max_bits + 1)
        for row in range(min(_CHUNK, len(items) - start)):
            a = ids[start + row]
            for j in range(lims[row], lims[row + 1]):
                b = ids[found[j]]
                if a < b:
                    pairs.append((int(a), int(b), int(dist[j])))
    return pairs


def _visual_pairs(index: SearchIndex, max_distance: float, neighbours: int) -> list[tuple[int, int, float]]:
    """Pairs of item ids whose content cosine distance is at most ``max_distance`` (exact cosine)."""
    vectors = index.faiss_index("content")
    ids, matrix = index.all_vectors("content")
    if len(ids) < 2:
        return []
    pairs = []
    for start in range(0, len(ids), _CHUNK):
        block = matrix[start:start + _CHUNK]
        _, found = ann.search(vectors, block, neighbours + 1)
        rows, cols = np.nonzero(found >= 0)
        a = ids[start + rows]
        b = found[rows, cols]
        keep = a < b
        a, b = a[keep], b[keep]
        if not a.size:
            continue
        pos = np.searchsorted(ids, b)
        cosine = np.einsum("ij,ij->i", matrix[start + rows[keep]], matrix[pos])
        close = cosine >= 1.0 - max_distance
        pairs += [(int(x), int(y), float(c))
                  for x, y, c in zip(a[close], b[close], cosine[close], strict=True)]
    # a pair found from both ends appears twice when both are each other's neighbours; keep one
    return list({(a, b): (a, b, c) for a, b, c in pairs}.values())


def _confirmed(index: SearchIndex, pairs: list[tuple[int, int, int]],
               min_cosine: float) -> list[tuple[int, int, int]]:
    """Hash pairs whose content embeddings also agree loosely (plain or blank images share hashes)."""
    kept = []
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start:start + _CHUNK]
        a = index.vectors([p[0] for p in chunk])
        b = index.vectors([p[1] for p in chunk])
        cosine = np.einsum("ij,ij->i", a, b)
        kept += [p for p, c in zip(chunk, cosine, strict=True) if c >= min_cosine]
    return kept


def find_duplicates(index: SearchIndex, *, threshold: float = DEFAULT_THRESHOLD,
                    hash_threshold: int = DEFAULT_HASH_THRESHOLD, neighbours: int = 20,
                    keep: KeepRule | None = None) -> dict:
    """Groups of duplicate images in an index.

    Parameters
    ----------
    index
        An open index.
    threshold
        Largest cosine distance between the content embeddings of visual near-duplicates (0 disables the
        visual level).
    hash_threshold
        Largest Hamming distance between 64-bit perceptual hashes of near-identical images (-1 disables).
    neighbours
        Nearest neighbours examined per image for the visual level; larger groups still join through
        shared neighbours.
    keep
        How the copy to keep is chosen (:class:`~artlens.search.keeper.KeepRule`; default: assessed under
        the ``general`` policy, without the results store). ``KeepRule(policy=None)`` skips the assessment:
        resolution, then bytes decide.

    Returns
    -------
    dict
        ``{"schema": "artlens.duplicates/1", "index", "settings", "summary", "groups": [{"group", "kind",
        "size", "keep", "keep_reason", "members": [...], "pairs": [...]}]}``. A group's ``kind`` is
        ``exact`` when all members have the same bytes, ``near-identical`` when joined by perceptual hashes
        (and exact copies), else ``visual``; ``keep`` suggests the member to keep by the rule of
        :mod:`artlens.search.keeper` and ``keep_reason`` says what decided; with a policy, each member has
        its ``assessment`` (verdict, quality, reasons, or the error that stopped it).

    Notes
    -----
    Three levels, each a graph of pairs: exact (same SHA-256 of the file bytes); near-identical (pHash
    Hamming distance at most ``hash_threshold``, which survives resizing and re-encoding [1]_); visual
    (cosine distance of content embeddings at most ``threshold``, which also survives crops, colour edits
    and overlays). A hash match counts only when the embeddings agree loosely too (cosine distance at most
    ``2 threshold``): unrelated plain or mostly blank images can share a hash. Groups are the connected
    components of the union of the three graphs (union-find), so
    a group can chain: A ~ B and B ~ C put A and C together.

    References
    ----------
    .. [1] C. Zauner, "Implementation and Benchmarking of Perceptual Image Hash Functions", Master's thesis,
           Upper Austria University of Applied Sciences, 2010.
    """
    if not 0.0 <= threshold <= 2.0:
        raise ConfigError(f"threshold must be a cosine distance in [0, 2], got {threshold}")
    if hash_threshold > 64:
        raise ConfigError(f"hash threshold must be at most 64 bits, got {hash_threshold}")
    start = time.perf_counter()
    items = index.items()
    by_id = {it.id: it for it in items}

    exact: list[tuple[int, int]] = []
    by_sha: dict[str, list[int]] = {}
    for it in items:
        by_sha.setdefault(it.sha256, []).append(it.id)
    for same in by_sha.values():
        exact += [(same[0], other) for other in same[1:]]
    near = _phash_pairs(items, hash_threshold) if hash_threshold >= 0 else []
    if near and threshold > 0:
        near = _confirmed(index, near, 1.0 - min(2.0, 2 * threshold))
    visual = _visual_pairs(index, threshold, neighbours) if threshold > 0 and items else []

    levels = [UnionFind(), UnionFind(), UnionFind()]
    for level, edges in enumerate((exact, near, visual)):
        for a, b, *_ in edges:
            for uf in levels[level:]:
                uf.union(a, b)

    pair_info: dict[tuple[int, int], dict] = {}
    for a, b in exact:
        pair_info[(min(a, b), max(a, b))] = {"match": "exact"}
    for a, b, bits in near:
        pair_info.setdefault((a, b), {"match": "near-identical"})["hamming"] = bits
    for a, b, cos in visual:
        pair_info.setdefault((a, b), {"match": "visual"})["cosine"] = round(cos, 6)

    rule = keep if keep is not None else KeepRule()
    found = levels[2].groups()
    # only the members of duplicate groups are assessed (or read back from the store), never the index
    assessed, counts = assess_members(list(dict.fromkeys(by_id[m].path for g in found for m in g)), rule)
    groups = []
    for number, members in enumerate(found, start=1):
        root0 = {levels[0].find(m) for m in members}
        root1 = {levels[1].find(m) for m in members}
        kind = "exact" if len(root0) == 1 else "near-identical" if len(root1) == 1 else "visual"
        member_items = [by_id[m] for m in members]
        kept, why = choose_keeper(member_items, assessed, rule.policy)
        inside = set(members)
        pairs = [{"a": by_id[a].path, "b": by_id[b].path, **info}
                 for (a, b), info in sorted(pair_info.items()) if a in inside and b in inside]
        listed = [{**it.to_dict(), **({"assessment": assessed[it.path].to_dict()} if it.path in assessed
                                      else {})} for it in member_items]
        groups.append({"group": number, "kind": kind, "size": len(members), "keep": kept.path,
                       "keep_reason": why, "members": listed, "pairs": pairs})

    kinds = {k: sum(1 for g in groups if g["kind"] == k) for k in _KINDS}
    return {
        "schema": SCHEMA, "index": str(index.folder),
        "settings": {"threshold": threshold, "hash_threshold": hash_threshold, "neighbours": neighbours,
                     "policy": rule.policy},
        "summary": {"items": len(items), "groups": len(groups), "in_groups": sum(g["size"] for g in groups),
                    **{f"{k}_groups": v for k, v in kinds.items()},
                    **{f"assessed_{k}": v for k, v in counts.items()},
                    "elapsed_s": round(time.perf_counter() - start, 3)},
        "groups": groups,
    }
