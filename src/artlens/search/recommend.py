"""Personalised recommendation: a Rocchio profile from liked and disliked images, diversified with MMR.

A profile is a small JSON file (``artlens.profile/1``) holding the running sums of the liked and disliked
vectors and the content hashes of every image the user has rated or seen, so a user's history accumulates
across calls and survives re-indexing.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from artlens.errors import ArtlensError, ConfigError
from artlens.files import atomic_write_text
from artlens.imageio import DEFAULT_MAX_PIXELS, load_image
from artlens.search.duplicates import DEFAULT_HASH_THRESHOLD, DEFAULT_THRESHOLD
from artlens.search.embed import l2_normalise
from artlens.search.index import IndexedItem, SearchIndex
from artlens.search.nearcopies import near_duplicates

__all__ = ["Profile", "mmr", "recommend", "rocchio"]

SCHEMA = "artlens.recommend/1"
PROFILE_SCHEMA = "artlens.profile/1"
#: Rocchio weights of the liked (beta) and disliked (gamma) centroids.
BETA, GAMMA = 0.75, 0.25
_POOL_FACTOR = 10  # MMR re-ranks the k * this most relevant candidates
_POOL_MIN = 100


def rocchio(liked: np.ndarray, disliked: np.ndarray | None = None, *, beta: float = BETA,
            gamma: float = GAMMA) -> np.ndarray:
    """A profile vector from liked and disliked unit vectors.

    Parameters
    ----------
    liked
        (L, D) vectors of liked items, L >= 1.
    disliked
        (M, D) vectors of disliked items, or ``None``.
    beta, gamma
        Weights of the liked and disliked centroids.

    Returns
    -------
    numpy.ndarray
        (D,) unit vector ``beta * mean(liked) - gamma * mean(disliked)``, normalised.

    References
    ----------
    .. [1] J. J. Rocchio, "Relevance Feedback in Information Retrieval", in G. Salton (ed.), The SMART
           Retrieval System, Prentice-Hall, 1971, pp. 313-323.
    """
    liked = np.atleast_2d(np.asarray(liked, np.float32))
    if liked.shape[0] == 0:
        raise ConfigError("a profile needs at least one liked image")
    vector = beta * liked.mean(axis=0)
    if disliked is not None and len(disliked):
        vector = vector - gamma * np.atleast_2d(np.asarray(disliked, np.float32)).mean(axis=0)
    return l2_normalise(vector)


def mmr(relevance: np.ndarray, vectors: np.ndarray, k: int, diversity: float,
        blocked: np.ndarray | None = None) -> list[int]:
    """Maximal-marginal-relevance selection of ``k`` candidates.

    Parameters
    ----------
    relevance
        (N,) similarity of each candidate to the profile.
    vectors
        (N, D) unit vectors of the candidates.
    k
        How many to pick.
    diversity
        0: rank by relevance alone; 1: only novelty counts after the first pick.
    blocked
        Optional (N, N) booleans: once candidate ``i`` is picked, no candidate ``j`` with ``blocked[i, j]``
        is picked (near-duplicates of a pick are folded into it), so fewer than ``k`` may come back.

    Returns
    -------
    list of int
        Candidate positions in the order picked.

    Notes
    -----
    Each step picks ``argmax  (1 - diversity) * rel(d) - diversity * max_{s in S} sim(d, s)`` over the
    candidates ``d`` not yet picked, with ``S`` the items picked so far.

    References
    ----------
    .. [1] J. Carbonell and J. Goldstein, "The Use of MMR, Diversity-Based Reranking for Reordering
           Documents and Producing Summaries", SIGIR 1998.
    """
    if not 0.0 <= diversity <= 1.0:
        raise ConfigError(f"diversity must be in [0, 1], got {diversity}")
    n = len(relevance)
    k = min(k, n)
    if k <= 0:
        return []
    lam = 1.0 - diversity
    rel = np.asarray(relevance, np.float64)
    sims = np.asarray(vectors, np.float32) @ np.asarray(vectors, np.float32).T
    chosen: list[int] = []
    closest = np.full(n, -np.inf)
    available = np.ones(n, bool)
    for _ in range(k):
        if not available.any():
            break
        score = lam * rel - (1.0 - lam) * (closest if chosen else 0.0)
        score = np.where(available, score, -np.inf)
        pick = int(np.argmax(score))
        chosen.append(pick)
        available[pick] = False
        if blocked is not None:
            available &= ~np.asarray(blocked[pick], bool)
        closest = np.maximum(closest, sims[pick])
    return chosen


def _b64(vector: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(vector, np.float32).tobytes()).decode("ascii")


def _unb64(text: str, dim: int) -> np.ndarray:
    vector = np.frombuffer(base64.b64decode(text), np.float32)
    if vector.shape != (dim,):
        raise ConfigError(f"profile vector has {vector.size} values, expected {dim}")
    return vector.copy()


@dataclass
class Profile:
    """A user's rating history: running vector sums and the content hashes of rated and seen images."""

    backbone: str
    by: str
    dim: int
    liked: dict[str, str] = field(default_factory=dict)  # sha256 -> last known path
    disliked: dict[str, str] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)
    liked_sum: np.ndarray | None = None
    disliked_sum: np.ndarray | None = None
    updated: float = 0.0

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Profile:
        """Read a profile file."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read the profile: {exc}") from None
        if not isinstance(data, dict) or data.get("schema") != PROFILE_SCHEMA:
            raise ConfigError(f"{path}: not an {PROFILE_SCHEMA} profile")
        dim = int(data["dim"])
        return cls(backbone=data["backbone"], by=data.get("by", "content"), dim=dim,
                   liked=dict(data.get("liked", {})), disliked=dict(data.get("disliked", {})),
                   seen=dict(data.get("seen", {})),
                   liked_sum=_unb64(data["liked_sum"], dim) if data.get("liked_sum") else None,
                   disliked_sum=_unb64(data["disliked_sum"], dim) if data.get("disliked_sum") else None,
                   updated=float(data.get("updated", 0.0)))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the profile (atomically: a temporary file renamed over the old one)."""
        data = {"schema": PROFILE_SCHEMA, "backbone": self.backbone, "by": self.by, "dim": self.dim,
                "liked": self.liked, "disliked": self.disliked, "seen": self.seen,
                "liked_sum": _b64(self.liked_sum) if self.liked_sum is not None else None,
                "disliked_sum": _b64(self.disliked_sum) if self.disliked_sum is not None else None,
                "updated": time.time()}
        atomic_write_text(path, json.dumps(data, indent=1))

    def rate(self, sha256: str, path: str, vector: np.ndarray, liked: bool) -> None:
        """Record one rating; rating an image again replaces its earlier rating."""
        for table, attr in ((self.liked, "liked_sum"), (self.disliked, "disliked_sum")):
            if sha256 in table:
                del table[sha256]
                setattr(self, attr, getattr(self, attr) - vector)
        table, attr = (self.liked, "liked_sum") if liked else (self.disliked, "disliked_sum")
        table[sha256] = path
        current = getattr(self, attr)
        setattr(self, attr, vector.astype(np.float32) if current is None else current + vector)

    def vector(self) -> np.ndarray:
        """The Rocchio profile vector (see :func:`rocchio`)."""
        if not self.liked or self.liked_sum is None:
            raise ConfigError("a profile needs at least one liked image (--liked)")
        liked = self.liked_sum / len(self.liked)
        disliked = None
        if self.disliked and self.disliked_sum is not None:
            disliked = self.disliked_sum / len(self.disliked)
        return rocchio(liked[None], None if disliked is None else disliked[None])

    def rated_or_seen(self) -> set[str]:
        return set(self.liked) | set(self.disliked) | set(self.seen)


def _resolve(index: SearchIndex, query: str | os.PathLike[str], by: str,
             max_pixels: int) -> tuple[str, str, np.ndarray]:
    """(sha256, path, vector) of an indexed path or an image file."""
    vector, item = index.query_vector(query, by, max_pixels=max_pixels)
    if item is not None:
        return item.sha256, item.path, vector
    return load_image(query, max_pixels=max_pixels).sha256, str(Path(query).resolve()), vector


def recommend(index: SearchIndex, liked: Sequence[str | os.PathLike[str]] = (),
              disliked: Sequence[str | os.PathLike[str]] = (), *, seen: Sequence[str | os.PathLike[str]] = (),
              k: int = 20, diversity: float = 0.3, profile: Profile | None = None, by: str = "content",
              max_pixels: int = DEFAULT_MAX_PIXELS, fold: bool = True) -> tuple[dict, Profile]:
    """Recommend indexed images to a user from what they liked and disliked.

    Parameters
    ----------
    index
        An open index.
    liked, disliked
        Indexed paths or image files the user rated.
    seen
        Further images not to recommend (shown before, bought ...).
    k
        How many recommendations.
    diversity
        0..1, the MMR trade-off: 0 ranks by similarity to the profile alone, higher values spread the list
        over different kinds of images.
    profile
        A loaded profile to extend (its ratings count along with the new ones); ``None`` starts a new one.
    by
        ``content`` or ``style`` vectors.
    max_pixels
        Larger rating images are refused.
    fold
        Leave out near-duplicates of rated or seen images, and fold near-duplicates of a recommendation into
        it (see Notes).

    Returns
    -------
    (dict, Profile)
        The ``artlens.recommend/1`` result (``results``: rank, id, path, relevance and, when near-duplicates
        were folded into it, ``folded``; ``errors``: ratings that could not be used; with ``fold``,
        ``folded`` says the rule and how many candidates it left out) and the updated profile (save it with
        :meth:`Profile.save`).

    Notes
    -----
    The profile vector is Rocchio's relevance-feedback update ``beta * mean(liked) - gamma * mean(disliked)``
    (beta = 0.75, gamma = 0.25) over the whole history. Candidates are the ``max(100, 10 k)`` items most
    similar to it, leaving out every image whose bytes the user has rated or seen; MMR then picks ``k`` of
    them (:func:`mmr`).

    With ``fold`` (the default), near-duplicates count as the same picture, by the duplicate finder's rule
    (:mod:`artlens.search.nearcopies`: content cosine distance at most 0.12, or perceptual hashes within 8
    bits with the embeddings loosely agreeing): a candidate that is a near-duplicate of a rated or seen
    indexed image (a 90 % crop or a resized copy of a liked picture) is left out, and once MMR picks a
    result its near-duplicates are not picked again but listed under it (``folded``).
    """
    if k < 1:
        raise ConfigError(f"k must be at least 1, got {k}")
    if not 0.0 <= diversity <= 1.0:
        raise ConfigError(f"diversity must be in [0, 1], got {diversity}")
    if len(index) == 0:
        raise ArtlensError(f"index {index.folder} is empty; add images with "
                           f"`artlens index add PATH... --index {index.folder}`")
    dim = index.faiss_index(by).d
    if profile is None:
        profile = Profile(backbone=index.backbone, by=by, dim=dim)
    elif profile.backbone != index.backbone or profile.by != by or profile.dim != dim:
        raise ConfigError(f"the profile was made with {profile.backbone}/{profile.by} vectors; this index "
                          f"gives {index.backbone}/{by}: start a new profile")
    errors = []
    for queries, is_liked in ((liked, True), (disliked, False)):
        for query in queries:
            try:
                sha, path, vector = _resolve(index, query, by, max_pixels)
            except ArtlensError as exc:
                errors.append({"query": str(query), "error": str(exc)})
                continue
            profile.rate(sha, path, vector, is_liked)
    for query in seen:
        item = index.item_by_path(query)
        if item is not None:
            profile.seen[item.sha256] = item.path
        elif Path(query).is_file():
            profile.seen[load_image(query, max_pixels=max_pixels).sha256] = str(Path(query).resolve())
        else:
            errors.append({"query": str(query), "error": f"{query}: not in the index and no such file"})

    target = profile.vector()
    excluded = profile.rated_or_seen()
    skip = [it.id for sha in excluded for it in index.items_by_sha256(sha)]
    pool = index.search(target, max(_POOL_MIN, _POOL_FACTOR * k), by=by, exclude=skip)[0]
    results: list[dict] = []
    near_rated = 0
    if pool:
        ids = [i for i, _ in pool]
        relevance = np.asarray([s for _, s in pool])
        items = {it.id: it for it in index.items(ids)}
        blocked = None
        if fold:
            near = _near_rated(index, ids, items, skip)
            near_rated = int(near.sum())
            ids, relevance = [i for i, n in zip(ids, near, strict=True) if not n], relevance[~near]
            blocked = _near_each_other(index, ids, items)
        order = mmr(relevance, index.vectors(ids, by), k, diversity, blocked) if ids else []
        placed: set[int] = set(order)
        for r, p in enumerate(order):
            result = {"rank": r + 1, "id": ids[p], "path": items[ids[p]].path,
                      "relevance": round(float(relevance[p]), 6)}
            if blocked is not None:
                under = [j for j in np.flatnonzero(blocked[p]) if j not in placed]
                placed.update(under)
                if under:
                    result["folded"] = [items[ids[j]].path for j in under]
            results.append(result)
    summary = {"liked": len(profile.liked), "disliked": len(profile.disliked), "seen": len(profile.seen),
               "excluded_items": len(skip)}
    report = {"schema": SCHEMA, "index": str(index.folder), "by": by, "k": k, "diversity": diversity,
              "profile": summary, "results": results, "errors": errors}
    if fold:
        report["folded"] = {"threshold": DEFAULT_THRESHOLD, "hash_threshold": DEFAULT_HASH_THRESHOLD,
                            "near_rated": near_rated}
    return report, profile


def _content_and_hashes(index: SearchIndex, ids: Sequence[int],
                        items: dict[int, IndexedItem]) -> tuple[np.ndarray, np.ndarray]:
    return index.vectors(ids, "content"), np.asarray([items[i].phash for i in ids], np.int64)


def _near_rated(index: SearchIndex, ids: Sequence[int], items: dict[int, IndexedItem],
                rated: Sequence[int]) -> np.ndarray:
    """(N,) booleans: is candidate ``ids[n]`` a near-duplicate of a rated or seen indexed item?"""
    if not rated:
        return np.zeros(len(ids), bool)
    refs = {it.id: it for it in index.items(rated)}
    ref_ids = list(refs)
    near = near_duplicates(*_content_and_hashes(index, ids, items),
                           *_content_and_hashes(index, ref_ids, refs))
    return near.any(axis=1)


def _near_each_other(index: SearchIndex, ids: Sequence[int], items: dict[int, IndexedItem]) -> np.ndarray:
    """(N, N) booleans: which candidates are near-duplicates of which."""
    if not ids:
        return np.zeros((0, 0), bool)
    vectors, hashes = _content_and_hashes(index, ids, items)
    return near_duplicates(vectors, hashes, vectors, hashes)
