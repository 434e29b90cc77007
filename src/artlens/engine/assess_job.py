"""The job of ``artlens assess``: each file decoded and measured (:func:`artlens.assess.analyse.analyse`) on
a worker, with its quality heat map when the settings ask for one; the record and heat map (or the file's
one-line error) go back to the driver, which keeps the store, writes the heat maps and judges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from artlens.assess.analyse import AnalysisSettings, analyse
from artlens.engine.job import Outcome, one_thread
from artlens.errors import ArtlensError, ImageLoadError, printable
from artlens.imageio import LoadedImage, load_image

if TYPE_CHECKING:
    from artlens.iqa.explain import Explanation

__all__ = ["AssessJob", "analyse_path"]


def _explain(image: LoadedImage, settings: AnalysisSettings) -> Explanation | None:
    """The image's heat map when ``settings.explain`` asks for it: the pixels and the model are here."""
    if not settings.explain:
        return None
    from artlens.iqa.default import load_quality_model
    from artlens.iqa.explain import explain_image

    return explain_image(load_quality_model(settings.quality_model), image.rgb)


def analyse_path(path: str, settings: AnalysisSettings) -> Outcome:
    """``(path, (record, heat map or None), None)``, or ``(path, None, one-line error)`` for a file that
    cannot be analysed."""
    try:
        image = load_image(path, max_pixels=settings.max_pixels)
        return path, (analyse(image, settings), _explain(image, settings)), None
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
