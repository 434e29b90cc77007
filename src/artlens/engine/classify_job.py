"""The job of ``artlens classify`` on an engine: each worker loads the classifier once and predicts batches of
files; the driver puts the predictions in file order and writes the same report as the local run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artlens.engine.engines import Engine
from artlens.engine.job import Outcome, one_thread
from artlens.errors import ArtlensError, ConfigError, ImageLoadError, printable
from artlens.imageio import DEFAULT_MAX_PIXELS, load_image

__all__ = ["ClassifyJob", "classify_on"]


@dataclass
class ClassifyJob:
    """Predictions of the classifier in ``model_dir`` (``top_k`` classes per head, "unknown" marked by the
    model's recorded domain threshold and ``min_score``, as in this process)."""

    model_dir: str
    top_k: int = 3
    max_pixels: int = DEFAULT_MAX_PIXELS
    default_batch_size: int = 32
    min_score: float | None = None
    domain_check: bool = True
    preload: tuple[str, ...] = ("artlens.classify.model", "torchvision")
    _model: Any = field(default=None, init=False, repr=False, compare=False)
    _rule: Any = field(default=None, init=False, repr=False, compare=False)

    def setup(self) -> None:
        one_thread()
        from artlens.classify.model import load_classifier
        from artlens.classify.unknown import UnknownRule

        self._model = load_classifier(self.model_dir)
        self._rule = UnknownRule.for_model(self._model.config["heads"], self.min_score, self.domain_check)

    def run(self, paths: Sequence[str]) -> list[Outcome]:
        if self._model is None:
            self.setup()
        outcomes: dict[str, Outcome] = {}
        batch, rgbs = [], []
        for path in paths:
            try:
                rgbs.append(load_image(path, max_pixels=self.max_pixels).rgb)
                batch.append(path)
            except ImageLoadError as exc:
                outcomes[path] = (path, None, str(exc))
            except ArtlensError as exc:
                outcomes[path] = (path, None, f"{printable(path)}: {exc}")
        if rgbs:
            from artlens.classify.records import predict_records

            records = predict_records(self._model, batch, rgbs, self.top_k, self._rule)
            outcomes.update({path: (path, {k: v for k, v in record.items() if k != "path"}, None)
                             for path, record in zip(batch, records, strict=True)})
        return [outcomes[path] for path in paths]


def classify_on(engine: Engine, model_dir: str | Path | None, files: Sequence[Path], *, top_k: int,
                max_pixels: int, batch_size: int, progress: Callable[[int, int], None] | None = None,
                min_score: float | None = None, domain_check: bool = True) -> tuple[list[dict], list[dict]]:
    """``(images, errors)`` of the report for ``files``, classified on ``engine``'s workers, in file order."""
    if model_dir is None:
        raise ConfigError("classify on an engine needs a model folder: the workers load the model from it")
    job = ClassifyJob(str(model_dir), top_k, max_pixels, default_batch_size=batch_size, min_score=min_score,
                      domain_check=domain_check)
    order = {str(f): i for i, f in enumerate(files)}
    images: list[dict] = []
    errors: list[dict] = []
    for done, (path, pred, error) in enumerate(engine.map(job, list(order)), start=1):
        if pred is None:
            errors.append({"path": path, "error": error or f"{printable(path)}: could not be classified"})
        else:
            images.append({"path": path, **pred})
        if progress is not None:
            progress(done, len(order))
    images.sort(key=lambda im: order[im["path"]])
    errors.sort(key=lambda e: order[e["path"]])
    return images, errors
