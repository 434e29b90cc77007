"""The service's music routes with the shipped chorale model: compose and harmonize jobs, their files."""

from __future__ import annotations

import io
import wave

import pytest

pytest.importorskip("fastapi")


@pytest.fixture
def service(make_service):
    return make_service()


@pytest.mark.weights
def test_compose_job_gives_midi_audio_and_piano_roll(service, finished_job) -> None:
    client, auth = service
    response = client.post("/v1/compose", headers=auth, json={"bars": 2, "key": "G", "seed": 4})
    assert response.status_code == 202, response.text
    job = finished_job(client, auth, response.json()["job"]["id"])
    assert job["status"] == "done", job
    summary = client.get(f"/v1/results/{job['id']}", headers=auth).json()
    assert summary["schema"] == "artlens.music/1" and summary["key"] == "G major" and summary["bars"] == 2
    midi = client.get(summary["files"]["midi"], headers=auth)
    assert midi.status_code == 200 and midi.content.startswith(b"MThd")
    roll = client.get(summary["files"]["roll"], headers=auth)
    assert roll.headers["content-type"] == "image/png"
    audio = client.get(summary["files"]["wav"], headers=auth)
    with wave.open(io.BytesIO(audio.content)) as wav:
        assert wav.getnframes() / wav.getframerate() == pytest.approx(summary["seconds"] + 1.0, abs=0.01)
    assert client.get(f"/v1/music/{job['id']}/musicxml", headers=auth).status_code == 404  # not asked for


def test_harmonize_job_keeps_the_melody(service, finished_job, make_chorale, tmp_path) -> None:
    from artlens.music import read_piece, write_midi

    client, auth = service
    melody = make_chorale(shift=2, repeats=1).voices_subset([0])
    write_midi(melody, tmp_path / "tune.mid")
    files = {"melody": ("tune.mid", (tmp_path / "tune.mid").read_bytes(), "audio/midi")}
    response = client.post("/v1/harmonize", headers=auth, files=files,
                           data={"candidates": "2", "wav": "false", "musicxml": "true"})
    assert response.status_code == 202, response.text
    job = finished_job(client, auth, response.json()["job"]["id"])
    assert job["status"] == "done", job
    assert job["params"]["melody_name"] == "tune.mid"
    summary = client.get(f"/v1/results/{job['id']}", headers=auth).json()
    assert set(summary["files"]) == {"midi", "roll", "musicxml"} and len(summary["voices"]) == 4
    (tmp_path / "out.mid").write_bytes(client.get(summary["files"]["midi"], headers=auth).content)
    [result] = read_piece(tmp_path / "out.mid")
    assert result.notes(0) == melody.notes(0)


def test_bad_requests_are_refused(service) -> None:
    client, auth = service
    assert client.post("/v1/compose", headers=auth, json={"bars": 0}).status_code == 422
    assert client.post("/v1/compose", headers=auth, json={"colour": "blue"}).status_code == 422
    assert client.post("/v1/compose", json={}).status_code == 401
    not_music = {"melody": ("tune.mid", b"\x89PNG\r\n\x1a\nrest", "image/png")}
    refused = client.post("/v1/harmonize", headers=auth, files=not_music)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unsupported_file"
    assert client.post("/v1/harmonize", headers=auth, json={}).status_code == 415
    assert client.get("/v1/music/nojob/midi", headers=auth).status_code == 404
