"""Fuzzing of every operation in ``/openapi.json``: schemathesis over the ASGI app, in-process.

Requests follow the schema (positive) or break it (negative), with a valid key and without one. The service
must never answer 5xx, every 4xx must be the JSON error body ``{"error": {"code", "message"}}``, and without
a key every guarded route must answer 401. Bounded and deterministic (``derandomize``, no example database)
so CI sees the same requests on every run.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402

from .conftest import NO_RATE_LIMITS  # noqa: E402

#: Examples per operation and generation mode: with a key, and without one (refused early: fewer needed).
WITH_KEY, WITHOUT_KEY = 25, 8
_OPEN = {"GET /healthz"}


def _quick_write_stream(request, image=None, **options):
    """A stand-in for writing with a model: a streamed ``/v1/write`` answers at once (the contract is under
    test here, not the language models, which tests/text exercises)."""
    yield "a line"
    yield {"schema": "artlens.write/1", "kind": request.kind, "text": "a line"}


@pytest.fixture
def service(tmp_path, monkeypatch):
    """``(schemathesis schema, auth headers)`` of a technical-only app whose allowed root holds one image.

    One app per test: schemathesis's pytest plugin ends the ASGI lifespans it started (so the app's job
    pool) when each test ends. A streamed write answers with a stand-in text, not SmolLM2's.
    """
    from PIL import Image

    from artlens.serve.app import create_app
    from artlens.serve.settings import ServeSettings

    monkeypatch.setattr("artlens.text.writing.write_stream", _quick_write_stream)
    base = tmp_path
    for name in ("root", "uploads"):
        (base / name).mkdir()
    Image.new("RGB", (128, 128), (90, 140, 30)).save(base / "root" / "a.png")
    app = create_app(ServeSettings(db_path=base / "serve.db", allow_roots=(base / "root",), technical=True,
                                   upload_dir=base / "uploads", max_queued_jobs=4, **NO_RATE_LIMITS))
    auth = {"Authorization": f"Bearer {app.state.keys.create('fuzz')[0]}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=dict(auth))  # it adds to them
    return schema, auth


def _error_body(response) -> str | None:
    """Why a 4xx body is not the project's JSON error, or None when it is."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return "not JSON"
    error = body.get("error") if isinstance(body, dict) else None
    if set(body) != {"error"} or not isinstance(error, dict) or set(error) != {"code", "message"} \
            or not all(isinstance(v, str) and v for v in error.values()):
        return f"not an error body: {response.content[:200]!r}"
    return "a stack trace" if "Traceback" in response.text else None


def _check(case, response, keyed: bool) -> None:
    label = case.operation.label
    status = response.status_code
    where = f"{label} answered {status}: {response.content[:300]!r}\n{case.as_curl_command()}"
    assert status < 500, where
    if 400 <= status < 500:
        problem = _error_body(response)
        assert problem is None, f"{where}\n{problem}"
    if not keyed and label not in _OPEN:
        # 404: a path parameter holding '/' or '..' leads to no route at all, so nothing is answered there.
        allowed = {401, 404} if "{" in case.operation.path else {401}
        assert status in allowed, where
        if status == 401:
            assert response.headers.get("www-authenticate") == ["Bearer"], where


def _fuzz(schema, auth: dict[str, str] | None, examples: int) -> tuple[list[str], int]:
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
                      print_blob=False)
            @given(case=operation.as_strategy(mode))
            def run(case) -> None:
                if auth is None:
                    case.headers = {k: v for k, v in (case.headers or {}).items()
                                    if k.lower() != "authorization"}
                _check(case, case.call(headers=auth), keyed=auth is not None)

            try:
                run()
            except Unsatisfiable:  # nothing to break (no parameters, no body): nothing to send
                continue
            except AssertionError as exc:
                failures.append(f"[{mode.value}] {exc}")
            except Exception as exc:  # in-process, an unhandled server error is raised, not answered 500
                notes = "\n".join(getattr(exc, "__notes__", ()))
                failures.append(f"[{mode.value}] {operation.label} raised {type(exc).__name__}: {exc}\n"
                                f"{notes}")
    return failures, operations


def test_no_5xx_and_json_errors_with_a_key(service):
    schema, auth = service
    failures, operations = _fuzz(schema, auth, WITH_KEY)
    spec = schema.raw_schema["paths"]
    assert operations == sum(len(methods) for methods in spec.values()) >= 12
    assert not failures, "\n\n".join(failures)


def test_every_guarded_operation_refuses_requests_without_a_key(service):
    schema, _auth = service
    failures, _operations = _fuzz(schema, None, WITHOUT_KEY)
    assert not failures, "\n\n".join(failures)


# Inputs that answered 500 before they were fixed, found by hand next to the fuzzer (which sends neither
# lone surrogates, nor names longer than a file system allows, nor JSON nested 100,000 deep).
_BAD_ITEMS = {"lone surrogate": "\\ud800", "name too long": "a" * 300,
              "unknown user": "~no-such-user-artlens/x"}


def _json_operations(spec: dict) -> list[tuple[str, str | None]]:
    """``(path, field)`` of every POST taking JSON; ``field`` is its required list of names, if any."""
    found = []
    for path, methods in spec["paths"].items():
        body = methods.get("post", {}).get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            schema = body["schema"]
            lists = [name for name in schema.get("required", [])
                     if schema["properties"][name].get("type") == "array"]
            found.append((path, lists[0] if lists else None))
    return found


def test_inputs_that_once_gave_500(service):
    from fastapi.testclient import TestClient

    schema, auth = service
    client = TestClient(schema.app, raise_server_exceptions=False)
    operations = _json_operations(schema.raw_schema)
    assert ("/v1/assess", "paths") in operations and ("/v1/similar", "queries") in operations
    sent = []
    for path, field in operations:
        bodies = {"nested 100,000 deep": "[" * 100_000 + "]" * 100_000}
        if field is not None:
            bodies |= {name: f'{{"{field}": ["{item}"]}}' for name, item in _BAD_ITEMS.items()}
        for name, body in bodies.items():
            response = client.post(path, headers=auth | {"Content-Type": "application/json"}, content=body)
            sent.append((path, name, response.status_code))
            assert response.status_code < 500, (path, name, response.text)
            if response.status_code >= 400:
                assert _error_body(response) is None, (path, name, response.text)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    for preset in ("9" * 5000, "\u00b2"):  # int() refuses both, though str.isdigit() accepts them
        response = client.post("/v1/stylize", headers=auth, data={"preset": preset},
                               files={"content": ("a.png", png, "image/png")})
        assert response.status_code == 422 and _error_body(response) is None, response.text
    assert len(sent) >= 4 * 4
