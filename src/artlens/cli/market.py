"""The art market commands: ``market fit``, ``market value``, ``market trends`` and ``market simulate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from artlens.cli._app import JsonOpt, QuietOpt, app, progress_bar, stage_reporter
from artlens.cli.output import err, print_json, print_table

market_app = typer.Typer(
    help="Art market analysis: valuation models, price indices and forecasts from sales "
    "records (docs/market.md).",
    no_args_is_help=True,
)
app.add_typer(market_app, name="market")

RatesOpt = Annotated[
    Path | None,
    typer.Option("--rates", help="Currency table: a CSV with currency,rate (base-currency units per unit)."),
]
FreqOpt = Annotated[str, typer.Option("--frequency", help="Sale periods: year, half, quarter or month.")]
PremiumOpt = Annotated[
    bool,
    typer.Option(
        "--add-premium",
        help="Prices are hammer prices: add the buyer's "
        "premium where arttactic's table knows the house and place.",
    ),
]
SkipOpt = Annotated[
    bool,
    typer.Option(
        "--skip-bad-rows",
        help="Report bad rows on stderr and go on without them (default: stop at the first).",
    ),
]
ImagesOpt = Annotated[
    Path | None,
    typer.Option("--images", help="Folder that relative paths in the image column are read from."),
]


def _prepared(
    path: Path,
    rates: Path | None,
    frequency: str,
    premium: bool,
    skip: bool,
    *,
    works: bool = False,
    images: Path | None = None,
    rate_table: dict[str, float] | None = None,
) -> Any:
    from artlens.market import prepare, read_rates, read_sales

    def bad_row(exc: Exception) -> None:
        err.print(f"skipped {exc}", highlight=False, markup=False)

    sales = read_sales(path, on_error=bad_row if skip else None, works=works)
    if images is not None:
        sales.image[:] = [str(images / p) if p and not Path(p).is_absolute() else p for p in sales.image]
    table = read_rates(rates) if rates is not None else rate_table
    return prepare(sales, rates=table, frequency=frequency, add_premium=premium)


def _embeddings(prepared: Any, quiet: bool) -> dict[str, Any] | None:
    from artlens.market import embed_images

    paths = [str(p) for p in prepared.sales.image if p]
    if not paths:
        return None
    with progress_bar(quiet, "pictures (mobilenet_v2)") as bar:
        return embed_images(
            paths,
            on_error=lambda exc: err.print(f"skipped {exc}", highlight=False, markup=False),
            progress=stage_reporter(bar),
        )


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f} %"


@market_app.command("fit")
def fit_command(
    sales: Annotated[Path, typer.Argument(help="Sales: CSV or Parquet with price and date columns.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")] = Path("market-model"),
    rates: RatesOpt = None,
    frequency: FreqOpt = "year",
    add_premium: PremiumOpt = False,
    origins: Annotated[
        int,
        typer.Option(
            min=1, max=20, help="Latest periods each predicted from the periods before it (rolling origin)."
        ),
    ] = 3,
    level: Annotated[
        float, typer.Option(min=0.5, max=0.99, help="Coverage of the prediction intervals.")
    ] = 0.8,
    no_images: Annotated[bool, typer.Option("--no-images", help="Leave out the image model.")] = False,
    images: ImagesOpt = None,
    seed: Annotated[int, typer.Option(help="Seeds the boosting models.")] = 0,
    iterations: Annotated[
        int, typer.Option(min=10, max=5000, help="Boosting rounds of each gradient-boosting model.")
    ] = 300,
    skip_bad_rows: SkipOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Fit valuation models (hedonic ridge, boosting, boosting with image features), validated on the latest
    periods."""
    from artlens.market import FitSettings, fit_market, read_rates, save_market_model

    prepared = _prepared(sales, rates, frequency, add_premium, skip_bad_rows, images=images)
    embeddings = None if no_images else _embeddings(prepared, quiet)
    settings = FitSettings(level=level, origins=origins, seed=seed, iterations=iterations)
    with progress_bar(quiet, "fitting") as bar:
        model = fit_market(prepared, embeddings, settings, progress=stage_reporter(bar))
    save_market_model(out, model, prepared, embeddings, rates=read_rates(rates) if rates else None)
    report = {**model.report, "model": str(out)}
    if as_json:
        print_json(report)
        return
    latest = report["latest"] or {"models": {}, "period": "-"}
    rows = [
        (kind, f"{m['r2']:.3f}" if m["r2"] is not None else "", _pct(m["mdape"]), _pct(m["coverage"]))
        for kind, m in latest["models"].items()
    ]
    print_table(
        ("model", "R² (log)", "MdAPE", f"{level:.0%} coverage"),
        rows,
        right=("R² (log)", "MdAPE"),
        title=f"latest period {latest['period']} ({report['bought_in']} bought-in lots censored)",
    )


@market_app.command("value")
def value_command(
    model: Annotated[Path, typer.Argument(help="A model folder from 'artlens market fit'.")],
    works: Annotated[
        Path,
        typer.Argument(
            help="Works to value: CSV or Parquet with the sales columns (price and date may be left out)."
        ),
    ],
    images: ImagesOpt = None,
    frequency: FreqOpt = "year",
    which: Annotated[
        str | None,
        typer.Option(
            "--model", help="hedonic, boosting or boosting+image (default: the best on validation)."
        ),
    ] = None,
    skip_bad_rows: SkipOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Estimate works: a value, a prediction interval and the main drivers for each."""
    from artlens.market import load_market_model, value_works

    loaded = load_market_model(model)
    prepared = _prepared(
        works,
        None,
        loaded.prepared.frequency,
        False,
        skip_bad_rows,
        works=True,
        images=images,
        rate_table=loaded.rates or None,
    )
    embeddings = _embeddings(prepared, quiet) if loaded.model.pca is not None else None
    result = value_works(loaded, prepared, embeddings, which)
    if as_json:
        print_json(result)
        return
    rows = [
        (
            str(w["row"]),
            w["artist"],
            w["title"],
            f"{w['estimate']:,.0f}",
            f"{w['low']:,.0f}-{w['high']:,.0f}",
            ", ".join(f"{d['group']} {d['percent']:+.0f} %" for d in w["drivers"][:3]),
        )
        for w in result["works"]
    ]
    print_table(
        ("row", "artist", "title", "estimate", f"{result['level']:.0%} interval", "main drivers"),
        rows,
        right=("estimate",),
        title=f"model {result['model']}",
    )


@market_app.command("trends")
def trends_command(
    sales: Annotated[Path, typer.Argument(help="Sales: CSV or Parquet with price and date columns.")],
    by: Annotated[
        str, typer.Option("--by", help="all, artist, medium or segment (price tercile of the artist).")
    ] = "all",
    rates: RatesOpt = None,
    frequency: FreqOpt = "year",
    add_premium: PremiumOpt = False,
    horizon: Annotated[int, typer.Option(min=1, max=12, help="Periods to forecast.")] = 2,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write the HTML report here.")] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write the index figures as CSV here.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the JSON record here.")] = None,
    skip_bad_rows: SkipOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Price indices (hedonic time-dummy and repeat-sales) with bands, a forecast, and an HTML report."""
    import json

    from artlens.files import atomic_write_text
    from artlens.market import market_trends, trends_csv, trends_html

    prepared = _prepared(sales, rates, frequency, add_premium, skip_bad_rows)
    record = market_trends(prepared, by, horizon=horizon)
    if html_out is not None:
        atomic_write_text(html_out, trends_html(record, prepared))
    if csv_out is not None:
        atomic_write_text(csv_out, trends_csv(record))
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(record, indent=1))
    if as_json:
        print_json(record)
        return
    h, r = record["all"]["hedonic"], record["all"]["repeat_sales"]
    rows = [
        (
            label,
            f"{h['index'][i]:.1f}",
            f"{h['low'][i]:.1f}-{h['high'][i]:.1f}",
            "" if not r or r["index"][i] is None else f"{r['index'][i]:.1f}",
            str(record["all"]["sales"][i]),
        )
        for i, label in enumerate(h["periods"])
    ]
    f = record["all"]["forecast"]
    rows += [
        (
            f"{label} (forecast)",
            f"{f['index'][i]:.1f}",
            f"{f['index_low'][i]:.1f}-{f['index_high'][i]:.1f}",
            "",
            "",
        )
        for i, label in enumerate(f["periods"])
    ]
    print_table(
        ("period", "hedonic", "band", "repeat sales", "sold"),
        rows,
        right=("hedonic", "repeat sales", "sold"),
        title="price index (first period = 100)",
    )


@market_app.command("simulate")
def simulate_command(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for sales.csv, rates.csv and truth.json.")
    ] = Path("market-sim"),
    works: Annotated[int, typer.Option("--works", min=10, help="Distinct works.")] = 3000,
    artists: Annotated[int, typer.Option("--artists", min=2)] = 60,
    years: Annotated[int, typer.Option("--years", min=3, max=100)] = 12,
    seed: Annotated[int, typer.Option(help="Seeds everything drawn.")] = 0,
    images: Annotated[
        Path | None,
        typer.Option(
            "--images",
            help="Folder of pictures to attach (default: the "
            "offline photo and drawing sets in .data, if present).",
        ),
    ] = None,
    pool: Annotated[int, typer.Option(min=0, help="Pictures drawn from the sets.")] = 300,
    jump: Annotated[float, typer.Option(help="Add this to the log index from --jump-year on.")] = 0.0,
    jump_year: Annotated[int | None, typer.Option(help="The year of the planted jump.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate synthetic sales with a known index, effects and image-dependent value."""
    from artlens.market import SimulationSettings, default_image_pool, simulate_sales

    pictures = default_image_pool(images, pool, seed)
    sim = simulate_sales(
        SimulationSettings(
            works=works, artists=artists, years=years, seed=seed, jump=jump, jump_year=jump_year
        ),
        pictures,
    )
    paths = sim.write(out)
    summary = {
        "sales": len(sim.sales),
        "works": works,
        "pictures": len(pictures),
        "repeat_sales": sim.truth["repeat_sales"],
        "bought_in_share": sim.truth["bought_in_share"],
        **{k: str(v) for k, v in paths.items()},
    }
    if as_json:
        print_json(summary)
        return
    print_table(("", ""), [(k, str(v)) for k, v in summary.items()], show_header=False)
