"""Explanations as an analysis option: heat maps rendered in the assess worker and written during the run."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from artlens import weights
from artlens.assess.analyse import AnalysisSettings
from artlens.assess.pipeline import AssessRun, run_assessment
from artlens.assess.policy import load_policy
from artlens.assess.report import validate_report
from artlens.errors import ConfigError
from artlens.iqa.explain import BAR_HEIGHT

needs_model = pytest.mark.skipif(weights.local_status("mobilenet_v2").state != "verified",
                                 reason="mobilenet_v2 weights not verified in the local cache")


def _run(folder: Path, explain_dir: Path | None, *, explain: bool = True, learned: bool = True) -> AssessRun:
    policy = load_policy("general")
    settings = AnalysisSettings.for_policy(policy, learned=learned, explain=explain)
    return AssessRun(policy=policy, settings=settings, workers=1, use_store=False, explain_dir=explain_dir)


def test_explain_is_not_a_measurement():
    assert AnalysisSettings(explain=True).key() == AnalysisSettings().key()  # stored results stay valid


def test_explain_needs_the_learned_model_and_a_folder(tmp_path):
    with pytest.raises(ConfigError, match="learned quality model"):
        run_assessment([tmp_path], _run(tmp_path, tmp_path / "maps", learned=False))
    with pytest.raises(ConfigError, match="folder"):
        run_assessment([tmp_path], _run(tmp_path, None))
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ConfigError, match="cannot make the explanations folder"):
        run_assessment([tmp_path], _run(tmp_path, tmp_path / "file" / "maps"))


@needs_model
def test_heat_maps_are_written_as_each_result_arrives(tmp_path, photos):
    folder, maps = tmp_path / "in", tmp_path / "maps"
    folder.mkdir()
    for name in ("coffee", "chelsea", "rocket"):
        small = cv2.resize(photos[name], (400, 300), interpolation=cv2.INTER_AREA)
        Image.fromarray(small).save(folder / f"{name}.jpg", quality=90)
    (folder / "sub").mkdir()
    Image.fromarray(cv2.resize(photos["coins"], (300, 300))).save(folder / "sub" / "coffee.jpg")  # same stem
    written_when_done: list[tuple[int, int]] = []

    def progress(done: int, _total: int) -> None:
        written_when_done.append((done, len(list(maps.glob("*.quality-map.jpg")))))

    report = run_assessment([folder], _run(folder, maps), progress)
    validate_report(report)
    # during the run: when the n-th result is reported, its heat map is already on disk (not after the run)
    assert [n for _done, n in written_when_done] == [done for done, _n in written_when_done]
    assert written_when_done[-1] == (4, 4)
    paths = [Path(image["explanation"]["path"]) for image in report["images"]]
    assert len(set(paths)) == 4 and all(p.parent == maps and p.is_file() for p in paths)
    for image, path in zip(report["images"], paths, strict=True):
        overlay = cv2.imread(str(path))
        assert overlay.shape[:2] == (image["height"] + BAR_HEIGHT, image["width"])  # small: kept at its size
        assert 0 <= image["explanation"]["min"] <= image["explanation"]["mean"] <= 100
    assert np.mean([p.stat().st_size for p in paths]) < 100_000
