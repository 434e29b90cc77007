"""The music commands: ``train music``, ``compose`` and ``harmonize``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from artlens.cli._app import JsonOpt, QuietOpt, app, progress_bar, stage_reporter, train_app
from artlens.cli.output import err, print_json, print_table
from artlens.errors import ConfigError

_MIDI = {".mid", ".midi"}
_XML = {".musicxml", ".xml", ".mxl"}

ModelArg = Annotated[str, typer.Argument(help="A model folder from 'artlens train music', or 'chorales' for "
                                         "the shipped Bach chorale model.")]
SeedOpt = Annotated[int, typer.Option(help="Seeds the sampling: the same seed gives the same piece.")]
WavOpt = Annotated[Path | None, typer.Option("--wav", help="Also render audio to this WAV file "
                                             "(TimGM6mb SoundFont).")]
RollOpt = Annotated[Path | None, typer.Option("--roll", help="Also draw a piano roll to this PNG file.")]
XmlOpt = Annotated[Path | None, typer.Option("--musicxml", help="Also write MusicXML to this file.")]
RulesOpt = Annotated[bool, typer.Option("--rules/--no-rules", help="Refuse parallel fifths and octaves "
                                        "and voice crossing while sampling.")]
TopPOpt = Annotated[float, typer.Option("--top-p", min=0.01, max=1.0, help="Nucleus sampling: draw from "
                                        "the likeliest tokens holding this much probability.")]


def _outputs(out: Path, musicxml: Path | None, wav: Path | None, roll: Path | None) -> Any:
    from artlens.music import Outputs

    suffix = out.suffix.lower()
    if suffix in _MIDI:
        return Outputs(midi=out, musicxml=musicxml, wav=wav, roll=roll)
    if suffix in _XML:
        if musicxml is not None:
            raise ConfigError("--out is already a MusicXML file; drop --musicxml or write --out as .mid")
        return Outputs(musicxml=out, wav=wav, roll=roll)
    raise ConfigError(f"--out {out}: write a .mid or .musicxml file")


def _model(name: str) -> Any:
    from artlens.music import load_music_model

    return load_music_model(None if name in ("chorales", "bach") else name)


def _meter(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        numerator, denominator = (int(x) for x in text.split("/"))
    except ValueError:
        raise ConfigError(f"--meter {text!r}: write it like 4/4 or 6/8") from None
    return numerator, denominator


def _finish(piece: Any, outputs: Any, program: int, as_json: bool) -> None:
    from artlens.music import piece_summary, write_outputs

    files = write_outputs(piece, outputs, program=program)
    summary = piece_summary(piece, files)
    if as_json:
        print_json(summary)
        return
    voices = ", ".join(f"{v['name']} {v['notes']}" for v in summary["voices"])
    rows = [("key", summary["key"]), ("meter", summary["meter"]), ("bars", f"{summary['bars']:g}"),
            ("seconds", f"{summary['seconds']:.1f} at {summary['tempo']:g} bpm"), ("notes", voices),
            *((kind, path) for kind, path in files.items())]
    print_table(("", ""), rows, show_header=False)


@app.command("compose")
def compose_command(
    model: ModelArg = "chorales",
    out: Annotated[Path, typer.Option("--out", "-o", help="The piece: .mid (MIDI) or .musicxml.")] = Path(
        "piece.mid"),
    bars: Annotated[int, typer.Option(min=1, max=256, help="Bars to compose (after the primer).")] = 16,
    temperature: Annotated[float, typer.Option(min=0.05, max=5.0, help="Below 1: safer choices; above 1: "
                                               "bolder.")] = 0.9,
    top_p: TopPOpt = 0.95,
    seed: SeedOpt = 0,
    key: Annotated[str | None, typer.Option(help="Key: D, F# minor, Bbm... (default: the primer's, or C "
                                            "major / A minor).")] = None,
    meter: Annotated[str | None, typer.Option(help="Time signature, e.g. 3/4 (default: the primer's or the "
                                              "model's commonest).")] = None,
    primer: Annotated[Path | None, typer.Option(help="A MIDI, MusicXML or ABC file to continue (a melody "
                                                "is harmonised by a chorale model).")] = None,
    tempo: Annotated[float | None, typer.Option(min=20, max=300, help="Quarter notes per minute.")] = None,
    rules: RulesOpt = True,
    musicxml: XmlOpt = None,
    wav: WavOpt = None,
    roll: RollOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compose a new piece with a music model (the shipped chorale model by default)."""
    from artlens.music import compose

    outputs = _outputs(out, musicxml, wav, roll)
    loaded = _model(model)
    piece = compose(loaded, bars=bars, key=key, meter=_meter(meter), temperature=temperature, top_p=top_p,
                    seed=seed, primer=primer, tempo=tempo, rules=rules)
    _finish(piece, outputs, loaded.config.program, as_json)


@app.command("harmonize")
def harmonize_command(
    model: ModelArg,
    melody: Annotated[Path, typer.Argument(help="The melody: MIDI, MusicXML or ABC (its top part).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The harmonisation: .mid or .musicxml.")],
    key: Annotated[str | None, typer.Option(help="The melody's key, when music21's analysis gets it "
                                            "wrong.")] = None,
    temperature: Annotated[float, typer.Option(min=0.05, max=5.0)] = 0.8,
    top_p: TopPOpt = 0.95,
    seed: SeedOpt = 0,
    candidates: Annotated[int, typer.Option(min=1, max=64, help="Harmonisations drawn; the likeliest is "
                                            "kept.")] = 8,
    rules: RulesOpt = True,
    musicxml: XmlOpt = None,
    wav: WavOpt = None,
    roll: RollOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Harmonise a melody: the model writes the voices below it (alto, tenor and bass for chorales)."""
    from artlens.music import harmonize

    outputs = _outputs(out, musicxml, wav, roll)
    loaded = _model(model)
    piece = harmonize(melody, loaded, key=key, temperature=temperature, top_p=top_p, seed=seed,
                      candidates=candidates, rules=rules)
    _finish(piece, outputs, loaded.config.program, as_json)


@train_app.command("music")
def train_music_command(
    source: Annotated[Path | None, typer.Argument(help="A folder of MIDI, MusicXML and ABC files (or use "
                                                  "--corpus).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")] = Path("music-model"),
    corpus: Annotated[str | None, typer.Option(help="A corpus bundled with music21: bach (chorales) or "
                                               "folk (Ryan's Mammoth Collection).")] = None,
    voices: Annotated[int, typer.Option(min=1, max=8, help="Voices of a folder's pieces.")] = 4,
    epochs: Annotated[int, typer.Option(min=1, help="Most epochs (the cosine schedule spans them).")] = 12,
    hidden: Annotated[int, typer.Option(min=8, help="LSTM units per layer.")] = 192,
    layers: Annotated[int, typer.Option(min=1, max=4)] = 2,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    lr: Annotated[float, typer.Option(min=0.0)] = 3e-3,
    patience: Annotated[int, typer.Option(min=0, help="Epochs without a better validation NLL before "
                                          "stopping (0: never).")] = 5,
    seed: Annotated[int, typer.Option(help="Seeds the initialisation and the windows.")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its checkpoint "
                                         "in --out.")] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Train an LSTM music model on a corpus (teacher forcing, validation NLL, early stopping)."""
    from dataclasses import replace

    from artlens.music import MusicTrainSettings, train_music

    if (source is None) == (corpus is None):
        raise typer.BadParameter("give a folder or --corpus (one of them)")
    settings = replace(MusicTrainSettings(), epochs=epochs, hidden=hidden, layers=layers,
                       batch_size=batch_size, lr=lr, patience=patience, seed=seed)
    if corpus == "folk":
        settings = replace(settings, program=73)  # General MIDI flute for the fiddle tunes' melodies

    def bad_file(exc: Exception) -> None:
        err.print(f"skipped {exc}", highlight=False, markup=False)

    with progress_bar(quiet, "training") as bar:
        result = train_music(corpus if corpus is not None else source, out, corpus=corpus is not None,
                             voices=voices, settings=settings, resume=resume, on_error=bad_file,
                             progress=stage_reporter(bar))
    summary = {"model": str(result.folder), "pieces": result.pieces, "best_epoch": result.best_epoch,
               "val_nll": result.val_nll, "epochs": len([h for h in result.history if h["epoch"] > 0])}
    if as_json:
        print_json(summary)
        return
    print_table(("", ""), [("model", str(result.folder)),
                           ("validation NLL", f"{result.val_nll:.3f} nats/token"),
                           ("best epoch", str(result.best_epoch)),
                           ("pieces", ", ".join(f"{k} {v}" for k, v in result.pieces.items()))],
                show_header=False)
