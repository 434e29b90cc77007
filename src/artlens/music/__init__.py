"""Music generation: read MIDI, MusicXML and ABC, train an LSTM, compose, harmonise, render, evaluate.

``docs/music.md`` describes the representation and the commands. This package only re-exports, lazily (PEP
562): ``artlens compose`` then imports what composing needs and not music21, SciPy or the trainer, which keeps
the cold command fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from artlens.music.compose import MAX_BARS, Outputs, compose, harmonize, piece_summary, write_outputs
    from artlens.music.corpus import CORPORA, load_corpus
    from artlens.music.errors import MusicFileError, MusicModelError
    from artlens.music.evaluate import compare_sets, piece_features
    from artlens.music.export import write_midi, write_musicxml
    from artlens.music.model import SHIPPED_MODEL_DIR, ModelConfig, MusicModel, load_music_model
    from artlens.music.ngram import KneserNey
    from artlens.music.piece import Key, Note, Piece, parse_key
    from artlens.music.read import read_folder, read_piece
    from artlens.music.render import piano_roll, render_wav
    from artlens.music.tokens import decode, encode
    from artlens.music.train import MusicTrainSettings, TrainedMusic, train_music
    from artlens.music.voiceleading import voice_leading

_WHERE = {
    "compose": ("MAX_BARS", "Outputs", "compose", "harmonize", "piece_summary", "write_outputs"),
    "corpus": ("CORPORA", "load_corpus"),
    "errors": ("MusicFileError", "MusicModelError"),
    "evaluate": ("compare_sets", "piece_features"),
    "export": ("write_midi", "write_musicxml"),
    "model": ("SHIPPED_MODEL_DIR", "ModelConfig", "MusicModel", "load_music_model"),
    "ngram": ("KneserNey",),
    "piece": ("Key", "Note", "Piece", "parse_key"),
    "read": ("read_folder", "read_piece"),
    "render": ("piano_roll", "render_wav"),
    "tokens": ("decode", "encode"),
    "train": ("MusicTrainSettings", "TrainedMusic", "train_music"),
    "voiceleading": ("voice_leading",),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "CORPORA",
    "MAX_BARS",
    "SHIPPED_MODEL_DIR",
    "Key",
    "KneserNey",
    "ModelConfig",
    "MusicFileError",
    "MusicModel",
    "MusicModelError",
    "MusicTrainSettings",
    "Note",
    "Outputs",
    "Piece",
    "TrainedMusic",
    "compare_sets",
    "compose",
    "decode",
    "encode",
    "harmonize",
    "load_corpus",
    "load_music_model",
    "parse_key",
    "piano_roll",
    "piece_features",
    "piece_summary",
    "read_folder",
    "read_piece",
    "render_wav",
    "train_music",
    "voice_leading",
    "write_midi",
    "write_musicxml",
    "write_outputs",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'artlens.music' has no attribute {name!r}")
    value = getattr(import_module(f"artlens.music.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
