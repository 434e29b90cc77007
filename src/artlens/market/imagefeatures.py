"""Image features for the valuation models: a principal-component projection of backbone embeddings.

The embeddings are the descriptors artlens's search computes (:class:`artlens.search.embed.Embedder`, the
shipped MobileNetV2): the content embedding and the style descriptor (channel means and deviations of three
stages, after Huang & Belongie 2017), each of unit length, side by side. PCA (Pearson 1901; Jolliffe,
*Principal Component Analysis*, 2002) keeps the few directions the training pictures vary along most, so the
boosting models get a handful of columns rather than 1,792. A sale without a readable picture gets missing
values, which the boosting models handle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from artlens.errors import ArtlensError
from artlens.training.progress import Progress, report

__all__ = ["Embed", "ImagePCA", "embed_images", "fit_image_pca"]

log = logging.getLogger(__name__)

#: Turns RGB arrays into embedding rows (one per image).
Embed = Callable[[list[np.ndarray]], np.ndarray]


def _default_embed() -> Embed:
    from artlens.search.embed import Embedder

    embedder = Embedder("mobilenet_v2", style=True)

    def embed(images: list[np.ndarray]) -> np.ndarray:
        found = embedder.embed(images)
        return np.concatenate([found.content, found.style], axis=1)  # type: ignore[list-item]

    return embed


def embed_images(
    paths: Iterable[str],
    embed: Embed | None = None,
    *,
    on_error: Callable[[ArtlensError], None] | None = None,
    batch: int = 16,
    progress: Progress | None = None,
) -> dict[str, np.ndarray]:
    """Embeddings of the distinct, non-empty ``paths`` (a picture that cannot be read is reported through
    ``on_error`` and left out; the rest goes on); ``progress`` gets ``embed`` events."""
    from artlens.imageio import load_image

    embed = embed or _default_embed()
    distinct = sorted({p for p in paths if p})
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(distinct), batch):
        names, images = [], []
        for path in distinct[start : start + batch]:
            try:
                images.append(load_image(path).rgb)
                names.append(path)
            except ArtlensError as exc:
                log.warning("%s", exc)
                if on_error is not None:
                    on_error(exc)
        if images:
            for name, row in zip(names, np.asarray(embed(images), dtype=np.float32), strict=True):
                found[name] = row
        report(progress, "embed", min(start + batch, len(distinct)), len(distinct))
    return found


@dataclass
class ImagePCA:
    """The projection learnt from training pictures: ``(embedding - mean) @ components.T``."""

    mean: np.ndarray
    components: np.ndarray

    @property
    def dim(self) -> int:
        return int(self.components.shape[0])

    def transform(self, paths: Sequence[str], embeddings: dict[str, np.ndarray]) -> np.ndarray:
        """Rows of component scores, one per sale (missing values where a sale has no embedding)."""
        out = np.full((len(paths), self.dim), np.nan)
        for i, path in enumerate(paths):
            vector = embeddings.get(path)
            if vector is not None:
                out[i] = (vector - self.mean) @ self.components.T
        return out


def fit_image_pca(paths: Sequence[str], embeddings: dict[str, np.ndarray], dim: int = 8) -> ImagePCA | None:
    """PCA of the embeddings of the distinct pictures among ``paths`` (``None`` with fewer than 3)."""
    from sklearn.decomposition import PCA

    rows = [embeddings[p] for p in sorted(set(paths)) if p in embeddings]
    if len(rows) < 3:
        return None
    x = np.stack(rows).astype(np.float64)
    pca = PCA(n_components=min(dim, len(rows) - 1, x.shape[1]), random_state=0).fit(x)
    return ImagePCA(pca.mean_, pca.components_)
