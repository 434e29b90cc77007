"""The vector-index layer: which FAISS structure to use for a collection, how to build it and query it.

Every index stores unit-length vectors and answers by inner product (= cosine similarity); vector ids are the
SQLite row ids of the items, so a search result maps straight back to its file.

Kinds
-----
``flat``
    Exact search (``IndexFlatIP`` in an ``IndexIDMap2``): 4 bytes per dimension per vector.
``ivf``
    Inverted file with 8-bit scalar quantisation (``IndexIVFScalarQuantizer``): ``nlist`` k-means cells
    trained on a sample, ``nprobe`` cells visited per query. Vectors longer than :data:`IVF_PCA_DIM` are first
    projected on their :data:`IVF_PCA_DIM` principal components (``PCAMatrix``; Euclidean distance there,
    which ranks unit vectors as the cosine does), so a query scans a fifth of the bytes; the candidates are
    then re-scored with the exact stored vectors (:func:`fetch_size` of them). 1 byte per kept dimension.
``hnsw``
    Hierarchical navigable small-world graph over full vectors (``IndexHNSWFlat``, M = 32); fast queries but
    slow to build and no removal (a removal rebuilds it).
``auto``
    ``flat`` up to :data:`FLAT_MAX` vectors, ``ivf`` beyond.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import faiss
import numpy as np

from artlens.errors import ConfigError

__all__ = ["FLAT_MAX", "IVF_MIN_VECTORS", "IVF_PCA_DIM", "KINDS", "IndexParams", "build_index", "choose_kind",
           "fetch_size", "index_kind", "ivf_params", "search", "supports_remove"]

#: Largest collection searched exhaustively when the kind is ``auto`` (about 10 ms per query on one core).
FLAT_MAX = 20_000
KINDS = ("auto", "flat", "ivf", "hnsw")
_HNSW_M = 32
_HNSW_EF_CONSTRUCTION = 80
_HNSW_EF_SEARCH = 128
_TRAIN_POINTS_PER_CELL = 40  # k-means sample size per cell (FAISS warns below 39)
#: Fewest vectors an IVF index is trained on; smaller collections are searched exactly.
IVF_MIN_VECTORS = 2 * _TRAIN_POINTS_PER_CELL
_KMEANS_ITERATIONS = 12
#: Dimensions an IVF index keeps (principal components) for vectors longer than this.
IVF_PCA_DIM = 256
#: Candidates re-scored exactly per result wanted, and at least this many, for an approximate index.
_FETCH_FACTOR, _FETCH_MIN = 4, 50


@dataclass(frozen=True)
class IndexParams:
    """How an index was (or will be) built: kind, IVF cells and cells probed per query."""

    kind: str
    nlist: int = 0
    nprobe: int = 0


def choose_kind(n_vectors: int, requested: str = "auto") -> str:
    """The concrete index kind for a collection of ``n_vectors`` (``requested`` unless it is ``auto``)."""
    if requested not in KINDS:
        raise ConfigError(f"unknown index kind {requested!r}; use one of {', '.join(KINDS)}")
    if requested != "auto":
        return requested
    return "flat" if n_vectors <= FLAT_MAX else "ivf"


def ivf_params(n_vectors: int) -> IndexParams:
    """IVF cells and probes for a collection size.

    Notes
    -----
    ``nlist`` is the power of two nearest to ``2 sqrt(N)`` (between 16 and 4096), the usual balance between
    the coarse search (``nlist`` dot products) and the scan of the probed cells (``nprobe N / nlist``
    vectors). ``nprobe`` visits an eighth of the cells, at least 64. With the PCA to 256 dimensions and the
    exact re-scoring of :func:`fetch_size` candidates, on vectors modelled on real mobilenet_v2 embeddings
    (``benchmarks/search_scale.py``, 2 cores) that gave recall@10 against exact search of 0.98 at 100k
    vectors (512 cells, p95 0.4 ms) and 0.98 at 1M (2048 cells, p95 3.0 ms).

    References
    ----------
    .. [1] H. Jégou, M. Douze and C. Schmid, "Product Quantization for Nearest Neighbor Search", IEEE TPAMI
           33(1), 2011 (the inverted-file structure).
    .. [2] J. Johnson, M. Douze and H. Jégou, "Billion-scale similarity search with GPUs", IEEE Transactions
           on Big Data, 2019 (FAISS).
    """
    n = max(int(n_vectors), 1)
    nlist = int(min(4096, max(16, 2 ** round(math.log2(2 * math.sqrt(n))))))
    nlist = max(1, min(nlist, n // _TRAIN_POINTS_PER_CELL))
    nprobe = int(min(nlist, max(64, nlist // 8)))
    return IndexParams("ivf", nlist, nprobe)


def fetch_size(index: faiss.Index, k: int) -> int:
    """Candidates to take from ``index`` for ``k`` exact results after re-scoring (``k`` for a flat one)."""
    return k if index_kind(index) == "flat" else max(_FETCH_FACTOR * k, _FETCH_MIN)


def build_index(vectors: np.ndarray, ids: np.ndarray, kind: str, *, params: IndexParams | None = None,
                seed: int = 0) -> tuple[faiss.Index, IndexParams]:
    """A FAISS index over ``vectors`` (unit rows) with ``ids`` as their labels.

    Parameters
    ----------
    vectors
        (N, D) float32, rows of unit length.
    ids
        (N,) int64 labels returned by searches.
    kind
        ``flat``, ``ivf`` or ``hnsw`` (resolve ``auto`` with :func:`choose_kind` first).
    params
        IVF cells and probes; default :func:`ivf_params` of N.
    seed
        Seed of the k-means training sample and initialisation.

    Returns
    -------
    (faiss.Index, IndexParams)
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    n, dim = vectors.shape
    if kind == "flat":
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        used = IndexParams("flat")
    elif kind == "hnsw":
        graph = faiss.IndexHNSWFlat(dim, _HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = _HNSW_EF_CONSTRUCTION
        graph.hnsw.efSearch = _HNSW_EF_SEARCH
        index = faiss.IndexIDMap2(graph)
        used = IndexParams("hnsw")
    elif kind == "ivf":
        used = params or ivf_params(n)
        if n < max(used.nlist, IVF_MIN_VECTORS):
            need = max(used.nlist, IVF_MIN_VECTORS)
            raise ConfigError(f"an IVF index needs at least {need} vectors to train its cells (have {n}); "
                              "use --kind flat")
        index = new_ivf(dim, used.nlist)
        faiss.extract_index_ivf(index).nprobe = used.nprobe
        train_ivf(index, vectors, seed=seed)
    else:
        raise ConfigError(f"unknown index kind {kind!r}; use flat, ivf or hnsw")
    if n:
        index.add_with_ids(vectors, ids)
    return index, used


def new_ivf(dim: int, nlist: int) -> faiss.Index:
    """An untrained inverted file of ``nlist`` cells with 8-bit scalar-quantised codes.

    Up to :data:`IVF_PCA_DIM` dimensions it compares by inner product; longer vectors are projected on their
    principal components first (PCA, as in Jégou et al.'s IVFADC pipelines) and compared by Euclidean
    distance, which for unit vectors orders neighbours as the inner product does and, unlike it, is not
    changed by the centring PCA applies.
    """
    if dim <= IVF_PCA_DIM:
        quantizer = faiss.IndexFlatIP(dim)
        return faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                             faiss.METRIC_INNER_PRODUCT)
    return faiss.index_factory(dim, f"PCA{IVF_PCA_DIM},IVF{nlist},SQ8", faiss.METRIC_L2)


def train_ivf(index: faiss.Index, vectors: np.ndarray, *, seed: int = 0) -> None:
    """Train the PCA (if any), the coarse quantiser (k-means) and the scalar quantiser on a sample."""
    ivf = faiss.extract_index_ivf(index)
    n = len(vectors)
    take = min(n, _TRAIN_POINTS_PER_CELL * ivf.nlist)
    rng = np.random.default_rng(seed)
    sample = vectors if take == n else vectors[np.sort(rng.choice(n, take, replace=False))]
    ivf.cp.niter = _KMEANS_ITERATIONS
    ivf.cp.seed = seed
    # unit vectors compared by inner product: centroids back on the sphere (not after a PCA)
    ivf.cp.spherical = ivf.metric_type == faiss.METRIC_INNER_PRODUCT
    index.train(np.ascontiguousarray(sample, dtype=np.float32))


def index_kind(index: faiss.Index) -> str:
    """``flat``, ``ivf`` or ``hnsw`` for an index made by :func:`build_index`."""
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    if isinstance(inner, faiss.IndexPreTransform):
        inner = faiss.downcast_index(inner.index)
    if isinstance(inner, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(inner, faiss.IndexIVF):
        return "ivf"
    return "flat"


def supports_remove(index: faiss.Index) -> bool:
    """Whether ids can be removed in place (HNSW graphs cannot)."""
    return index_kind(index) != "hnsw"


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` inner products and ids for each query row; missing results have id -1."""
    q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    k = max(1, min(int(k), max(index.ntotal, 1)))
    scores, ids = index.search(q, k)
    return scores, ids
