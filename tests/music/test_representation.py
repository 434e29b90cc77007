"""The grid and its tokens: chorales survive encoding, keys move to C major / A minor and back."""

from __future__ import annotations

import numpy as np
import pytest

from artlens.music import Key, decode, encode, parse_key, read_piece
from artlens.music.read import music21, select_voices
from artlens.music.tokens import VOCAB_SIZE, token_name


def test_a_bach_chorale_round_trips_through_the_tokens() -> None:
    m21 = music21()
    path = m21.corpus.getWork("bach/bwv10.7")
    [piece] = read_piece(path)
    satb = select_voices(piece, 4)
    normal, shift = satb.normalised()
    back = decode(encode(normal), 4, normal.meter).transposed(-shift)
    back.pickup = satb.pickup
    for voice in range(4):
        assert back.notes(voice) == satb.notes(voice)
    assert np.array_equal(back.fermata, satb.fermata) and satb.fermata.sum() >= 4
    # the same notes as music21 reads: pitch, onset and length of the soprano
    soprano = m21.converter.parse(str(path)).parts[0].stripTies().flatten().notes
    expected = [(n.pitch.midi, round(n.offset * 4), round(n.quarterLength * 4)) for n in soprano]
    assert [(n.pitch, n.start, n.length) for n in satb.notes(0)] == expected


def test_tokens_follow_bachbot_order(piece) -> None:
    names = [token_name(t) for t in encode(piece)]
    assert names[:7] == ["<start>", "<major>", "@0", "n72", "n67", "n64", "n48"]
    assert names[7:12] == ["@1", "h72", "h67", "h64", "h48"]
    assert "F" in names and names[-1] == "<end>"
    assert max(encode(piece)) < VOCAB_SIZE


def test_normalising_moves_to_c_major_or_a_minor(piece) -> None:
    d_major = piece.transposed(2)
    assert d_major.key == Key(2, "major")
    normal, shift = d_major.normalised()
    assert shift == -2 and normal.key == Key(0, "major")
    assert np.array_equal(normal.pitch, piece.pitch)
    assert Key(4, "minor").normalising_shift() == 5  # E minor up a fourth to A minor


@pytest.mark.parametrize(("text", "key"), [("D", Key(2, "major")), ("d", Key(2, "minor")),
                                           ("F# minor", Key(6, "minor")), ("Bbm", Key(10, "minor")),
                                           ("Eb major", Key(3, "major"))])
def test_key_names(text, key) -> None:
    assert parse_key(text) == key


def test_a_bad_key_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown key"):
        parse_key("H major")


def test_every_name_the_package_exports_resolves() -> None:
    import artlens.music

    for name in artlens.music.__all__:
        assert getattr(artlens.music, name) is not None
    with pytest.raises(AttributeError):
        _ = artlens.music.no_such_name
