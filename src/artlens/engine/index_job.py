"""The job of ``artlens index build`` on an engine: each file read, hashed and embedded on a worker; the
driver stores the entries and builds the FAISS index (:meth:`artlens.search.index.SearchIndex.update`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from artlens.engine.job import Outcome, one_thread
from artlens.errors import ArtlensError, ImageLoadError, printable
from artlens.imageio import DEFAULT_MAX_PIXELS, LoadedImage, load_image
from artlens.search.embed import Embedder
from artlens.search.entry import IndexEntry
from artlens.search.phash import phash

__all__ = ["EmbedJob"]


@dataclass
class EmbedJob:
    """Entries (:class:`~artlens.search.entry.IndexEntry`) of files; an outcome's error is the reason alone,
    without the path (the driver makes it an :class:`~artlens.errors.ImageLoadError`)."""

    backbone: str
    style: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    default_batch_size: int = 16
    preload: tuple[str, ...] = ("artlens.search.embed", "torchvision")
    _embedder: Embedder | None = field(default=None, init=False, repr=False, compare=False)

    def setup(self) -> None:
        one_thread()
        self._embedder = Embedder(self.backbone, style=self.style)

    def run(self, paths: Sequence[str]) -> list[Outcome]:
        if self._embedder is None:
            self.setup()
        assert self._embedder is not None
        outcomes: dict[str, Outcome] = {}
        loaded: list[tuple[str, LoadedImage]] = []
        for path in paths:
            try:
                loaded.append((path, load_image(path, max_pixels=self.max_pixels)))
            except ImageLoadError as exc:
                outcomes[path] = (path, None, exc.reason)
            except ArtlensError as exc:
                outcomes[path] = (path, None, str(exc))
        if loaded:
            try:
                emb = self._embedder.embed([image.rgb for _, image in loaded])
            except Exception as exc:  # one broken batch is reported per file; the job goes on
                reason = f"could not be embedded ({type(exc).__name__}: {printable(exc)})"
                outcomes.update({path: (path, None, reason) for path, _ in loaded})
            else:
                for j, (path, image) in enumerate(loaded):
                    style = emb.style[j] if emb.style is not None else None
                    entry = IndexEntry(image.sha256, image.width, image.height, phash(image.rgb),
                                       emb.content[j], style)
                    outcomes[path] = (path, entry, None)
        return [outcomes[path] for path in paths]
