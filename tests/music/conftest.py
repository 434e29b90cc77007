"""Fixtures of the music tests: small pieces made here, a tiny model, and a folder of MIDI files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from artlens.music import Key, ModelConfig, MusicModel, Piece, write_midi

# a C-major chorale-like phrase: (soprano, alto, tenor, bass) per quarter note
_CHORDS = [(72, 67, 64, 48), (71, 67, 62, 55), (72, 64, 60, 57), (74, 65, 62, 53), (72, 67, 64, 55),
           (71, 67, 62, 55), (72, 64, 55, 48), (72, 64, 55, 48)]


def chorale(shift: int = 0, repeats: int = 2) -> Piece:
    """A four-voice piece in quarter notes (C major moved by ``shift``), fermata on the last chord."""
    chords = _CHORDS * repeats
    frames = 4 * len(chords)
    pitch = np.repeat(np.array(chords, dtype=np.int16).T, 4, axis=1) + shift
    onset = np.zeros_like(pitch, dtype=bool)
    onset[:, ::4] = True
    fermata = np.zeros(frames, dtype=bool)
    fermata[frames - 4] = True
    return Piece(pitch, onset, fermata, (4, 4), 0, Key(shift % 12, "major"), 90.0, f"phrase{shift}",
                 ("Soprano", "Alto", "Tenor", "Bass"))


@pytest.fixture
def piece() -> Piece:
    return chorale()


@pytest.fixture
def make_chorale():  # the factory
    return chorale


@pytest.fixture(scope="session")
def tiny_model() -> MusicModel:
    """An untrained four-voice model small enough for every test."""
    torch.manual_seed(0)
    config = ModelConfig(voices=4, embed=8, hidden=16, layers=1, dropout=0.0,
                         ranges=[[60, 79], [55, 74], [48, 67], [40, 60]], meters=[[4, 4, 1]], minor_share=0.0,
                         tempo=90.0, program=19, corpus="test")
    model = MusicModel.create(config)
    model.net.eval()
    return model


@pytest.fixture(scope="session")
def midi_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six four-part MIDI files (the phrase in several keys and lengths): few, because music21 reads each
    one again for every training run."""
    folder = tmp_path_factory.mktemp("midi")
    for i, shift in enumerate((0, 2, -3, 5, -1, 4)):
        write_midi(chorale(shift, repeats=1 + i % 3), folder / f"phrase{i:02d}.mid")
    return folder
