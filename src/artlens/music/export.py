"""Writing a :class:`~artlens.music.piece.Piece` as a standard MIDI file (mido) or MusicXML (music21)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from artlens.music.errors import MusicFileError
from artlens.music.piece import FRAMES_PER_QUARTER, Piece

__all__ = ["TICKS_PER_QUARTER", "write_midi", "write_musicxml"]

TICKS_PER_QUARTER = 480
_TICKS = TICKS_PER_QUARTER // FRAMES_PER_QUARTER
_MIDI_KEYS = {0: "C", 1: "Db", 2: "D", 3: "Eb", 4: "E", 5: "F", 6: "F#", 7: "G", 8: "Ab", 9: "A", 10: "Bb",
              11: "B"}
_MINOR_KEYS = {0: "Cm", 1: "C#m", 2: "Dm", 3: "Ebm", 4: "Em", 5: "Fm", 6: "F#m", 7: "Gm", 8: "G#m", 9: "Am",
               10: "Bbm", 11: "Bm"}


def _mido() -> Any:
    try:
        import mido
    except ImportError:
        raise MusicFileError("mido", "not installed: pip install 'artlens[music]'") from None
    return mido


def write_midi(piece: Piece, path: str | os.PathLike[str], program: int = 0, velocity: int = 80) -> Path:
    """A type-1 MIDI file: a conductor track (tempo, time and key signature) and one track per voice.

    Voice ``v`` plays on channel ``v`` (the drum channel 9 is skipped) with General MIDI ``program``.
    """
    mido = _mido()
    path = Path(path)
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_QUARTER)
    key = (_MINOR_KEYS if piece.key.mode == "minor" else _MIDI_KEYS)[piece.key.tonic % 12]
    conductor = mido.MidiTrack([
        mido.MetaMessage("track_name", name=piece.title or "artlens", time=0),
        mido.MetaMessage("set_tempo", tempo=round(60_000_000 / piece.tempo), time=0),
        mido.MetaMessage("time_signature", numerator=piece.meter[0], denominator=piece.meter[1], time=0),
        mido.MetaMessage("key_signature", key=key, time=0),
        mido.MetaMessage("end_of_track", time=piece.frames * _TICKS),
    ])
    midi.tracks.append(conductor)
    for voice in range(piece.voices):
        channel = voice if voice < 9 else voice + 1
        events = []
        for note in piece.notes(voice):
            events.append((note.start * _TICKS, 1, note.pitch))
            events.append(((note.start + note.length) * _TICKS, 0, note.pitch))
        events.sort()  # note-offs (0) before note-ons (1) at the same tick
        name = piece.parts[voice] if voice < len(piece.parts) else f"voice {voice + 1}"
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0),
                                mido.Message("program_change", channel=channel, program=program, time=0)])
        now = 0
        for tick, on, pitch in events:
            kind = "note_on" if on else "note_off"
            track.append(mido.Message(kind, channel=channel, note=pitch, velocity=velocity if on else 0,
                                      time=tick - now))
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=max(0, piece.frames * _TICKS - now)))
        midi.tracks.append(track)
    try:
        midi.save(str(path))
    except OSError as exc:
        raise MusicFileError(path, f"cannot be written ({exc.strerror or exc})") from None
    return path


def write_musicxml(piece: Piece, path: str | os.PathLike[str]) -> Path:
    """A MusicXML score (music21 spells the notes and splits them at bar lines with ties); a pickup is
    written as a bar opening with a rest."""
    from artlens.music.read import music21

    m21 = music21()
    path = Path(path)
    score = m21.stream.Score()
    score.insert(0, m21.metadata.Metadata(title=piece.title or "artlens"))
    lead = (piece.bar - piece.pickup) % piece.bar if piece.pickup else 0
    for voice in range(piece.voices):
        part = m21.stream.Part()
        part.partName = piece.parts[voice] if voice < len(piece.parts) else f"Voice {voice + 1}"
        part.append(m21.key.KeySignature(piece.key.sharps))
        part.append(m21.meter.TimeSignature(f"{piece.meter[0]}/{piece.meter[1]}"))
        if voice == 0:
            part.append(m21.tempo.MetronomeMark(number=piece.tempo))
        if piece.voices == 4 and voice >= 2:
            part.append(m21.clef.Treble8vbClef() if voice == 2 else m21.clef.BassClef())
        cursor = 0
        for note in piece.notes(voice):
            if note.start > cursor:
                part.insert((lead + cursor) / FRAMES_PER_QUARTER,
                            m21.note.Rest(quarterLength=(note.start - cursor) / FRAMES_PER_QUARTER))
            element = m21.note.Note(note.pitch, quarterLength=note.length / FRAMES_PER_QUARTER)
            if piece.fermata[note.start]:
                element.expressions.append(m21.expressions.Fermata())
            part.insert((lead + note.start) / FRAMES_PER_QUARTER, element)
            cursor = note.start + note.length
        if lead:
            part.insert(0, m21.note.Rest(quarterLength=lead / FRAMES_PER_QUARTER))
        score.insert(0, part)
    try:
        score.write("musicxml", fp=str(path))
    except Exception as exc:  # music21's writer raises its own kinds
        raise MusicFileError(path, f"cannot be written as MusicXML ({str(exc)[:160]})") from None
    return path
