"""Composing and harmonising: the files written have the bars, key and melody asked for."""

from __future__ import annotations

import numpy as np
import pytest

from artlens.music import MusicModelError, Outputs, compose, harmonize, piano_roll, write_outputs
from artlens.music.read import music21


def test_compose_writes_midi_with_the_requested_length_and_key(tiny_model, tmp_path) -> None:
    piece = compose(tiny_model, bars=4, key="D", seed=3)
    files = write_outputs(piece, Outputs(midi=tmp_path / "p.mid", musicxml=tmp_path / "p.musicxml"))
    m21 = music21()
    for path in files.values():
        score = m21.converter.parse(path)
        assert score.highestTime == pytest.approx(16.0)  # four bars of 4/4
        signature = score.parts[0].recurse().getElementsByClass(m21.key.KeySignature).first()
        assert signature.sharps == 2  # D major
        assert len(score.parts) == 4
    assert piece.key.tonic == 2 and piece.bars == 4


def test_compose_in_a_minor_key_and_another_meter(tiny_model) -> None:
    piece = compose(tiny_model, bars=3, key="F# minor", meter=(3, 4), seed=1)
    assert str(piece.key) == "F# minor" and piece.frames == 3 * 12
    assert [piece.position(f) for f in range(13)] == [*range(12), 0]


def test_the_same_seed_gives_the_same_piece(tiny_model) -> None:
    a, b = compose(tiny_model, bars=2, seed=7), compose(tiny_model, bars=2, seed=7)
    c = compose(tiny_model, bars=2, seed=8)
    assert np.array_equal(a.pitch, b.pitch) and not np.array_equal(a.pitch, c.pitch)


def test_voices_stay_in_their_training_ranges(tiny_model) -> None:
    piece = compose(tiny_model, bars=4, key="C", seed=0, temperature=2.0)
    for voice, (low, high) in enumerate(tiny_model.config.ranges):
        pitches = [n.pitch for n in piece.notes(voice)]
        assert all(low <= p <= high for p in pitches)


def test_harmonize_keeps_the_soprano_unchanged(tiny_model, make_chorale, tmp_path) -> None:
    from artlens.music import write_midi

    melody = make_chorale(shift=-3).voices_subset([0])  # in A major
    write_midi(melody, tmp_path / "melody.mid")
    result = harmonize(tmp_path / "melody.mid", tiny_model, seed=2, candidates=3)
    assert result.voices == 4
    assert result.notes(0) == melody.notes(0)
    written = write_outputs(result, Outputs(midi=tmp_path / "h.mid"))
    soprano = music21().converter.parse(written["midi"]).parts[0].flatten().notes
    assert [n.pitch.midi for n in soprano] == [n.pitch for n in melody.notes(0)]


def test_rules_remove_parallel_fifths_and_octaves(tiny_model, make_chorale) -> None:
    from artlens.music import voice_leading

    melody = make_chorale(repeats=2).voices_subset([0])
    free = [harmonize(melody, tiny_model, seed=s, candidates=1, temperature=1.5, rules=False)
            for s in range(3)]
    ruled = [harmonize(melody, tiny_model, seed=s, candidates=1, temperature=1.5) for s in range(3)]
    assert voice_leading(free)["parallels"] > 0  # an untrained model writes them freely
    assert voice_leading(ruled)["parallels"] == 0
    composed = compose(tiny_model, bars=4, seed=5, temperature=1.5)
    assert voice_leading(composed)["parallels"] == 0


def test_a_primer_is_kept_and_continued(tiny_model, make_chorale) -> None:
    primer = make_chorale(shift=2, repeats=1)  # two bars in D major, all four voices
    piece = compose(tiny_model, bars=2, primer=primer, seed=0)
    assert piece.frames == primer.frames + 2 * 16
    assert np.array_equal(piece.pitch[:, :primer.frames], primer.pitch)
    assert piece.key == primer.key


def test_harmonize_needs_a_model_with_several_voices(tiny_model, make_chorale) -> None:
    from artlens.music import ModelConfig, MusicModel

    solo = MusicModel.create(ModelConfig(voices=1, embed=4, hidden=8, layers=1, ranges=[[60, 80]]))
    with pytest.raises(MusicModelError, match="one voice"):
        harmonize(make_chorale().voices_subset([0]), solo)


def test_piano_roll_has_one_column_block_per_frame(piece, tmp_path) -> None:
    image = piano_roll(piece, tmp_path / "roll.png", frame_width=5)
    assert (tmp_path / "roll.png").is_file()
    assert image.width == piece.frames * 5 + 20


@pytest.mark.weights
def test_the_rendered_wav_has_the_expected_duration(piece, tmp_path) -> None:
    import wave

    from artlens.music.render import TAIL_SECONDS, render_wav

    path = render_wav(piece, tmp_path / "p.wav", sample_rate=16000)
    with wave.open(str(path)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    assert seconds == pytest.approx(piece.seconds + TAIL_SECONDS, abs=1e-3)
    assert np.abs(samples).max() > 1000  # sound, not silence
