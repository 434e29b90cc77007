"""The job of ``artlens assess``: each file decoded and measured (:func:`artlens.assess.analyse.analyse`) on
a worker, its record (or its one-line error) sent back to the driver, which keeps the store and judges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from artlens.assess.analyse import AnalysisSettings, analyse
from artlens.engine.job import Outcome, one_thread
from artlens.errors import ArtlensError, ImageLoadError, printable
from artlens.imageio import load_image

__all__ = ["AssessJob", "analyse_path"]


def analyse_path(path: str, settings: AnalysisSettings) -> Outcome:
    """``(path, record, None)``, or ``(path, None, one-line error)`` for a file that cannot be analysed."""
    try:
        image = load_image(path, max_pixels=settings.max_pixels)
        return path, analyse(image, settings), None
    except ImageLoadError as exc:
        return path, None, str(exc)
    except ArtlensError as exc:
        return path, None, f"{printable(path)}: {exc}"
    except Exception as exc:  # a decoder or analyser bug must not lose the rest of the batch
        return path, None, f"{printable(path)}: could not be analysed ({type(exc).__name__}: {exc})"


@dataclass(frozen=True)
class AssessJob:
    """Analyse files under ``settings``."""

    settings: AnalysisSettings
    default_batch_size: int = 1  # an image is 0.1-0.5 s of work: no batching needed on the local pool

    @property
    def preload(self) -> tuple[str, ...]:
        # the learned model's backbone is a torchvision network: with a fork server, its import (about 1.5 s,
        # torch._dynamo included) is paid once in the server, not again in every worker
        return ("artlens.assess.analyse",
                *(("artlens.iqa.model", "torchvision") if self.settings.learned else ()))

    def setup(self) -> None:
        """One thread; the quality model loaded up front (into the process-wide cache ``analyse`` uses)."""
        one_thread(torch=self.settings.learned)
        if self.settings.learned:
            from artlens.iqa.default import load_quality_model

            load_quality_model(self.settings.quality_model)

    def run(self, paths: Sequence[str]) -> list[Outcome]:
        return [analyse_path(path, self.settings) for path in paths]
