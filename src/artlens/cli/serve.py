"""Commands of the HTTP service: serve, keys create|list|revoke."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from artlens.cli._app import JsonOpt, app
from artlens.cli.output import err, out, print_json, print_table

keys_app = typer.Typer(help="Create, list and revoke the API keys of `artlens serve`.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

DbOpt = Annotated[Path | None, typer.Option(help="Key database (default: artlens.db in the cache folder, "
                                            "the one `artlens serve` uses).")]


def _model_option(values: list[str], option: str = "--model") -> dict[str, Path]:
    models: dict[str, Path] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep or not name or not folder:
            raise typer.BadParameter(f"{option} {value}: expected NAME=DIR")
        if name in models:
            raise typer.BadParameter(f"{option} {name}: given twice")
        models[name] = Path(folder)
    return models


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    allow_root: Annotated[list[Path] | None, typer.Option("--allow-root", help="A folder whose files "
                                                         "requests may name by path (repeatable); "
                                                         "without one, uploads only.")] = None,
    model: Annotated[list[str] | None, typer.Option("--model", help="Register a classifier as NAME=DIR "
                                                    "(repeatable).")] = None,
    index: Annotated[list[str] | None, typer.Option("--index", help="Register a search index as NAME=DIR "
                                                    "for /v1/similar and /v1/recommend "
                                                    "(repeatable).")] = None,
    gan: Annotated[list[str] | None, typer.Option("--gan", help="Register a GAN model as NAME=DIR for "
                                                  "/v1/generate (repeatable).")] = None,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Serve without API keys (loopback hosts "
                                          "only).")] = False,
    db: DbOpt = None,
    max_file_mb: Annotated[float, typer.Option(min=0.001, help="Largest upload per file, in MB.")] = 25.0,
    max_files: Annotated[int, typer.Option(min=1, help="Most files per request.")] = 16,
    max_pixels: Annotated[int, typer.Option(min=1, help="Most pixels per image.")] = 50_000_000,
    workers: Annotated[int, typer.Option(min=1, help="Requests doing heavy work at the same time.")] = 2,
    job_workers: Annotated[int, typer.Option(min=1, help="Jobs (style transfer) running at the same "
                                             "time.")] = 1,
    max_queued_jobs: Annotated[int, typer.Option(min=0, help="Jobs waiting for a worker; beyond them "
                                                 "requests get 429 with Retry-After.")] = 16,
    technical: Annotated[bool, typer.Option("--technical", help="Assess with the hand-made quality "
                                            "metrics only (no learned model; faster).")] = False,
    rate_per_key: Annotated[float, typer.Option(min=0, envvar="ARTLENS_RATE_PER_KEY", help="Requests per "
                                                "second per API key, bursts of twice that (0: no "
                                                "limit); beyond: 429 with Retry-After.")] = 50.0,
    rate_per_address: Annotated[float, typer.Option(min=0, envvar="ARTLENS_RATE_PER_ADDRESS", help="Requests "
                                                    "per second per client address, bursts of twice that "
                                                    "(0: no limit).")] = 100.0,
    auth_failures_per_minute: Annotated[float, typer.Option(min=0, envvar="ARTLENS_AUTH_FAILURES_PER_MINUTE",
                                                            help="Failed authentications per client address "
                                                            "and minute (bursts as many) before 429 (0: no "
                                                            "limit).")] = 10.0,
    max_parallel_uploads: Annotated[int, typer.Option(min=1, envvar="ARTLENS_MAX_PARALLEL_UPLOADS",
                                                      help="Request bodies parsed at the same time; others "
                                                      "wait up to 10 s, then 429.")] = 8,
    max_request_pixels: Annotated[int, typer.Option(min=1, help="Most pixels of all the images of one "
                                                    "request together.")] = 200_000_000,
    max_json_bytes: Annotated[int, typer.Option(min=1, help="Largest JSON request body.")] = 8 * 1024 * 1024,
    market_model: Annotated[Path | None, typer.Option("--market-model", help="An art market model folder "
                                                      "('artlens market fit') for /v1/market/*.")] = None,
) -> None:
    """Run the HTTP service (needs the serve extra): /v1/assess, /v1/classify, /v1/stylize, /v1/similar,
    /v1/recommend, /metrics."""
    try:
        import uvicorn

        from artlens.serve.app import create_app
        from artlens.serve.settings import ServeSettings
    except ImportError as exc:
        raise typer.BadParameter(f"the service needs the serve extra: pip install 'artlens[serve]' "
                                 f"({exc.name} is missing)") from None
    settings = ServeSettings(host=host, port=port, allow_roots=tuple(allow_root or ()), auth=not no_auth,
                             db_path=db, max_file_bytes=int(max_file_mb * 1024 * 1024), max_files=max_files,
                             max_pixels=max_pixels, models=_model_option(model or []), technical=technical,
                             indexes=_model_option(index or [], "--index"),
                             gans=_model_option(gan or [], "--gan"),
                             workers=workers, job_workers=job_workers,
                             max_queued_jobs=max_queued_jobs, rate_per_key=rate_per_key,
                             rate_per_address=rate_per_address,
                             auth_failures_per_minute=auth_failures_per_minute,
                             max_parallel_uploads=max_parallel_uploads,
                             max_request_pixels=max_request_pixels, max_json_bytes=max_json_bytes,
                             market_model=market_model).check()
    if no_auth:
        err.print("[bold red]" + "!" * 78 + "\n"
                  "WARNING: --no-auth: API keys are OFF. Anyone who can reach "
                  f"{host}:{port} can use this service.\n"
                  "Only loopback hosts are allowed; never expose this port (no proxies, no tunnels).\n"
                  + "!" * 78 + "[/]", highlight=False)
    app_ = create_app(settings)
    if settings.auth and not app_.state.keys.list():
        err.print("no API key exists yet: create one with `artlens keys create` (every request but /healthz "
                  "needs one)", highlight=False)
    for root in settings.allow_roots:
        err.print(f"paths allowed under {root}", highlight=False)
    uvicorn.run(app_, host=host, port=port, log_level="info", server_header=False)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", "-n", help="A label to recognise the key by.")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API key; its token is printed once and cannot be shown again."""
    from artlens.serve.auth import KeyStore

    with KeyStore(db) as keys:
        token, key = keys.create(name)
    if as_json:
        print_json({**key.as_dict(), "token": token})
        return
    out.print(token, highlight=False, markup=False)
    err.print(f"key {key.id} ({key.name}) created: store the token now, it is not kept and cannot be shown "
              "again", highlight=False)


@keys_app.command("list")
def keys_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List API keys by id (never their tokens)."""
    from artlens.serve.auth import KeyStore

    with KeyStore(db) as keys:
        listed = keys.list()
    if as_json:
        print_json([k.as_dict() for k in listed])
        return
    def when(t: float | None) -> str:
        return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if t else ""

    print_table(("id", "name", "created", "status"),
                ((k.id, escape(k.name), when(k.created),
                  "active" if k.active else f"revoked {when(k.revoked)}") for k in listed))


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id from `artlens keys list`.")],
    db: DbOpt = None,
) -> None:
    """Revoke an API key: requests with it are refused from now on (running servers included)."""
    from artlens.serve.auth import KeyStore

    with KeyStore(db) as keys:
        key = keys.revoke(key_id)
    err.print(f"key {key.id} ({key.name}) revoked", highlight=False)
