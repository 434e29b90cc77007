"""The service's music routes with the shipped chorale model: compose and harmonize jobs, their files."""

from __future__ import annotations

import io
import time
import wave

import pytest

pytest.importorskip("fastapi")


@pytest.fixture
def service(tmp_path):
    from fastapi.testclient import TestClient

    from artlens.serve.app import create_app
    from artlens.serve.settings import ServeSettings

    (tmp_path / "uploads").mkdir()
    app = create_app(ServeSettings(db_path=tmp_path / "serve.db", upload_dir=tmp_path / "uploads",
                                   rate_per_key=0, rate_per_address=0, auth_failures_per_minute=0))
    token = app.state.keys.create("test")[0]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def _wait(client, auth, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while True:
        job = client.get(f"/v1/jobs/{job_id}", headers=auth).json()["job"]
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


@pytest.mark.weights
def test_compose_job_gives_midi_audio_and_piano_roll(service) -> None:
    client, auth = service
    response = client.post("/v1/compose", headers=auth, json={"bars": 2, "key": "G", "seed": 4})
    assert response.status_code == 202, response.text
    job = _wait(client, auth, response.json()["job"]["id"])
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


def test_harmonize_job_keeps_the_melody(service, make_chorale, tmp_path) -> None:
    from artlens.music import read_piece, write_midi

    client, auth = service
    melody = make_chorale(shift=2, repeats=1).voices_subset([0])
    write_midi(melody, tmp_path / "tune.mid")
    files = {"melody": ("tune.mid", (tmp_path / "tune.mid").read_bytes(), "audio/midi")}
    response = client.post("/v1/harmonize", headers=auth, files=files,
                           data={"candidates": "2", "wav": "false", "musicxml": "true"})
    assert response.status_code == 202, response.text
    job = _wait(client, auth, response.json()["job"]["id"])
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
