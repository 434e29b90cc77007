"""Training a char-LSTM on the shared loop: validation bpc falls, resume is exact, model folders are
checked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from artlens.text import (
    TextModel,
    TextModelError,
    TextTrainSettings,
    load_text_model,
    read_corpus,
    train_text,
)

SMALL = TextTrainSettings(epochs=3, steps=10, batch_size=8, window=24, embed=8, hidden=24, layers=1,
                          val_chars=2000, lr=1e-2)


def test_a_tiny_lstm_lowers_its_validation_bpc(toy_corpus, tmp_path) -> None:
    result = train_text(toy_corpus, tmp_path / "model", settings=SMALL)
    start = result.history[0]["val_bpc"]
    assert result.best_epoch >= 1 and result.val_bpc < start - 0.5
    model = load_text_model(tmp_path / "model")
    assert model.config.training["val_bpc"] == pytest.approx(result.val_bpc, abs=1e-4)
    assert model.bits_per_char("the sea is grey\n") < start


def test_resume_continues_exactly(toy_corpus, tmp_path) -> None:
    whole = train_text(toy_corpus, tmp_path / "a", settings=SMALL)
    short = replace(SMALL, epochs=3)
    (tmp_path / "b").mkdir()
    # a run that "stopped" after its checkpoint: train fully, then resume from the saved state
    train_text(toy_corpus, tmp_path / "b", settings=short)
    resumed = train_text(toy_corpus, tmp_path / "b", settings=short, resume=True)
    assert resumed.val_bpc == pytest.approx(whole.val_bpc, abs=1e-6)


def test_a_damaged_model_folder_is_an_error_message(tiny_text_model, tmp_path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_bytes((tiny_text_model / "config.json").read_bytes())
    (broken / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(TextModelError, match="weights do not fit"):
        TextModel.load(broken)
    with pytest.raises(TextModelError, match="not a text model folder"):
        TextModel.load(tmp_path)


def test_a_bad_file_in_a_corpus_folder_is_reported_and_skipped(tmp_path) -> None:
    (tmp_path / "a.txt").write_text("one line\nanother line\n", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"\xff\xfe\x00bad")
    skipped = []
    lines = read_corpus(tmp_path, on_error=skipped.append)
    assert lines[:2] == ["one line", "another line"]
    assert len(skipped) == 1 and "b.txt: cannot be read as UTF-8" in str(skipped[0])
