"""Images too small for BRISQUE or NIQE still get a verdict: they fail on size, they are not errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artlens.assess.analyse import AnalysisSettings, analyse
from artlens.assess.pipeline import assess
from artlens.assess.report import validate_report
from artlens.imageio import load_image
from artlens.weights import local_status

needs_backbone = pytest.mark.skipif(local_status("mobilenet_v2").state != "verified",
                                    reason="mobilenet_v2 weights not verified in the cache (make weights)")

SIZES = {"small.png": (40, 30), "narrow.jpg": (90, 120)}  # (width, height): both under NIQE's 96 px


@pytest.fixture()
def tiny(tmp_path: Path, photos: dict[str, np.ndarray]) -> Path:
    for name, size in SIZES.items():
        Image.fromarray(photos["astronaut"]).resize(size, Image.Resampling.LANCZOS).save(tmp_path / name)
    return tmp_path


def _check(report: dict) -> None:
    validate_report(report)
    assert report["errors"] == [] and report["summary"]["errors"] == 0
    by_name = {Path(im["path"]).name: im for im in report["images"]}
    assert set(by_name) == set(SIZES)
    for name, (width, height) in SIZES.items():
        image = by_name[name]
        assert (image["width"], image["height"]) == (width, height)
        assert image["verdict"] == "fail"
        assert any(f"{max(width, height)} px on its longest side" in r for r in image["reasons"]), image
        assert image["scores"]["niqe"] is None  # skipped, not faked
        assert "niqe" not in image["subscores"] and 0 <= image["scores"]["quality"] <= 100
        assert not any("NIQE" in r or "BRISQUE" in r for r in image["reasons"])


def test_tiny_images_fail_on_size_with_technical_scoring(tiny: Path) -> None:
    _check(assess(tiny, learned=False))


@needs_backbone
def test_tiny_images_fail_on_size_with_the_learned_model(tiny: Path) -> None:
    _check(assess(tiny))


def test_iqa_scores_are_skipped_only_below_their_minimum(photos: dict[str, np.ndarray],
                                                         tmp_path: Path) -> None:
    settings = AnalysisSettings(learned=False)
    Image.fromarray(photos["astronaut"]).resize((60, 50)).save(tmp_path / "mid.png")  # BRISQUE yes, NIQE no
    Image.fromarray(photos["astronaut"]).resize((200, 150)).save(tmp_path / "ok.png")
    mid = analyse(load_image(tmp_path / "mid.png"), settings)
    ok = analyse(load_image(tmp_path / "ok.png"), settings)
    assert mid["scores"]["niqe"] is None and mid["scores"]["brisque"] is not None
    assert "brisque" in mid["subscores"] and "niqe" not in mid["subscores"]
    assert ok["scores"]["niqe"] is not None and {"brisque", "niqe"} <= set(ok["subscores"])
