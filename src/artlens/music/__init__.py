"""Music generation: read MIDI, MusicXML and ABC, train an LSTM, compose, harmonise, render, evaluate.

``docs/music.md`` describes the representation and the commands; this package only re-exports.
"""

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
