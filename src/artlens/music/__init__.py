"""Music generation: read MIDI, MusicXML and ABC, train an LSTM, compose, harmonise, render, evaluate.

``docs/music.md`` describes the representation and the commands. The names are re-exported lazily
(:mod:`artlens.lazy`): ``artlens compose`` imports what composing needs, not music21, SciPy or the trainer.
"""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "CORPORA": "artlens.music.corpus",
    "Key": "artlens.music.piece",
    "KneserNey": "artlens.music.ngram",
    "MAX_BARS": "artlens.music.generate",
    "ModelConfig": "artlens.music.model",
    "MusicFileError": "artlens.music.errors",
    "MusicModel": "artlens.music.model",
    "MusicModelError": "artlens.music.errors",
    "MusicTrainSettings": "artlens.music.train",
    "Note": "artlens.music.piece",
    "Outputs": "artlens.music.generate",
    "Piece": "artlens.music.piece",
    "SHIPPED_MODEL_DIR": "artlens.music.model",
    "TrainedMusic": "artlens.music.train",
    "compare_sets": "artlens.music.evaluate",
    "compose": "artlens.music.generate",
    "decode": "artlens.music.tokens",
    "encode": "artlens.music.tokens",
    "harmonize": "artlens.music.generate",
    "load_corpus": "artlens.music.corpus",
    "load_music_model": "artlens.music.model",
    "parse_key": "artlens.music.piece",
    "piano_roll": "artlens.music.render",
    "piece_features": "artlens.music.evaluate",
    "piece_summary": "artlens.music.generate",
    "read_folder": "artlens.music.read",
    "read_piece": "artlens.music.read",
    "render_wav": "artlens.music.render",
    "train_music": "artlens.music.train",
    "voice_leading": "artlens.music.voiceleading",
    "write_midi": "artlens.music.export",
    "write_musicxml": "artlens.music.export",
    "write_outputs": "artlens.music.generate",
})
