"""Training: a tiny model learns (validation NLL falls), writes a loadable folder, and resumes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from artlens.music import MusicModel, MusicTrainSettings, compose, train_music
from artlens.training import CheckpointError

TINY = MusicTrainSettings(epochs=3, batch_size=8, window=64, lr=1e-2, embed=8, hidden=24, layers=1,
                          dropout=0.0, patience=0, seed=0)


def test_a_few_epochs_lower_the_validation_nll(midi_folder, tmp_path) -> None:
    result = train_music(midi_folder, tmp_path / "m", voices=4, settings=TINY)
    start = result.history[0]
    assert start["epoch"] == 0 and start["loss"] is None
    assert result.val_nll < start["val_nll"] - 0.5
    assert result.pieces["train"] + result.pieces["validation"] + result.pieces["test"] == 6
    assert result.pieces["validation"] >= 1
    loaded = MusicModel.load(tmp_path / "m")
    assert loaded.config.training["val_nll"] == pytest.approx(result.val_nll, abs=1e-4)
    assert loaded.config.ranges[0][0] <= 72 <= loaded.config.ranges[0][1]  # soprano range in C major
    assert compose(loaded, bars=1, seed=0).voices == 4


class _Stop(Exception):
    pass


def test_an_interrupted_run_resumes_exactly(midi_folder, tmp_path) -> None:
    def stop_after_two(event) -> None:
        if event.stage == "epoch" and event.done == 2:
            raise _Stop  # the checkpoint of epoch 2 is written before the epoch is reported

    with pytest.raises(_Stop):
        train_music(midi_folder, tmp_path / "m", voices=4, settings=TINY, progress=stop_after_two)
    events = []
    resumed = train_music(midi_folder, tmp_path / "m", voices=4, settings=TINY, resume=True,
                          progress=events.append)
    assert [e.done for e in events if e.stage == "epoch"] == [3]  # only the third epoch ran
    straight = train_music(midi_folder, tmp_path / "s", voices=4, settings=TINY)
    assert [h["val_nll"] for h in resumed.history] == pytest.approx([h["val_nll"] for h in straight.history],
                                                                   rel=1e-6)
    with pytest.raises(CheckpointError, match="other data or settings"):
        train_music(midi_folder, tmp_path / "m", voices=4, settings=replace(TINY, lr=0.5), resume=True)


def test_resume_without_a_checkpoint_says_so(midi_folder, tmp_path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint"):
        train_music(midi_folder, tmp_path / "none", voices=4, settings=TINY, resume=True)
