"""Reading folders: good files become pieces, bad ones are reported one line each and the rest go on."""

from __future__ import annotations

import shutil

from artlens.music import MusicFileError, read_folder


def test_bad_files_are_reported_and_the_rest_read(midi_folder, tmp_path) -> None:
    shutil.copy(midi_folder / "phrase00.mid", tmp_path / "good.mid")
    (tmp_path / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01garbage")
    (tmp_path / "empty.musicxml").write_text("<score-partwise>", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not music", encoding="utf-8")
    seen: list[MusicFileError] = []
    pieces, errors = read_folder(tmp_path, 4, on_error=seen.append)
    assert [p.title for p in pieces] == ["good"]
    assert sorted(e.path.rsplit("/", 1)[-1] for e in errors) == ["broken.mid", "empty.musicxml"]
    assert seen == errors
    for error in errors:
        assert "\n" not in str(error) and error.path in str(error)


def test_a_piece_with_too_few_parts_is_refused(make_chorale, tmp_path) -> None:
    from artlens.music import write_midi

    write_midi(make_chorale().voices_subset([0, 3]), tmp_path / "two.mid")
    pieces, errors = read_folder(tmp_path, 4)
    assert not pieces and "has 2 parts" in str(errors[0])
