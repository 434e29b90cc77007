"""The market model folder: ``model.json`` (settings, vocabularies, the validation report, the currency table)
and ``data.npz`` (the training sales in model units and their image embeddings), with no pickled objects.

Loading refits the models from the stored sales with the stored seed, so a folder from elsewhere cannot run
code and a valuation is reproducible; the data file's SHA-256 is checked first.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from artlens.files import atomic_write, atomic_write_text, sha256_file
from artlens.market.errors import MarketModelError
from artlens.market.fitting import FitSettings, MarketModel, fit_calibrated
from artlens.market.normalise import Prepared
from artlens.market.sales import Sales

__all__ = ["LoadedMarketModel", "load_market_model", "save_market_model"]

SCHEMA = "artlens.market-model/1"


class LoadedMarketModel:
    """A market model with the data it was fitted on: ``model`` (fitted), ``prepared``, ``embeddings``,
    ``rates`` and ``backbone``."""

    def __init__(
        self,
        model: MarketModel,
        prepared: Prepared,
        embeddings: dict[str, np.ndarray] | None,
        rates: dict[str, float],
        backbone: str | None,
    ) -> None:
        self.model = model
        self.prepared = prepared
        self.embeddings = embeddings
        self.rates = rates
        self.backbone = backbone


def save_market_model(
    folder: Path,
    model: MarketModel,
    prepared: Prepared,
    embeddings: dict[str, np.ndarray] | None,
    *,
    rates: dict[str, float] | None = None,
    backbone: str | None = "mobilenet_v2",
) -> Path:
    """Write the model folder; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted(embeddings or {})
    arrays = {
        "log_price": prepared.log_price,
        "period": prepared.period,
        "artist": prepared.artist.astype(str),
        "medium": prepared.medium.astype(str),
        "log_area": prepared.log_area,
        "age": prepared.age,
        "house": prepared.house.astype(str),
        "sold": prepared.sold,
        "date": prepared.sales.date.astype("datetime64[D]").astype(np.int64),
        "title": prepared.sales.title.astype(str),
        "height": prepared.sales.height,
        "width": prepared.sales.width,
        "image": prepared.sales.image.astype(str),
        "embedding_paths": np.array(names, dtype=str),
        "embeddings": np.stack([embeddings[n] for n in names]) if names else np.zeros((0, 0), np.float32),
    }

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    data = atomic_write(folder / "data.npz", write)
    meta = {
        "schema": SCHEMA,
        "settings": asdict(model.settings),
        "frequency": prepared.frequency,
        "models": sorted(model.models),
        "rates": rates or {},
        "backbone": backbone if names else None,
        "data_sha256": sha256_file(data),
        "report": model.report,
    }
    atomic_write_text(folder / "model.json", json.dumps(meta, indent=1))
    return folder


def _prepared(arrays: dict[str, np.ndarray], frequency: str) -> Prepared:
    n = len(arrays["log_price"])
    empty = np.array([""] * n, dtype=object)
    sales = Sales(
        price=np.exp(arrays["log_price"]),
        date=arrays["date"].astype("datetime64[D]"),
        currency=empty,
        artist=arrays["artist"].astype(object),
        title=arrays["title"].astype(object),
        medium=arrays["medium"].astype(object),
        height=arrays["height"],
        width=arrays["width"],
        depth=np.full(n, np.nan),
        unit=empty,
        year_created=np.full(n, np.nan),
        house=empty,
        location=empty,
        estimate_low=np.full(n, np.nan),
        estimate_high=np.full(n, np.nan),
        sold=arrays["sold"],
        image=arrays["image"].astype(object),
        row=np.arange(2, n + 2),
        source="model",
    )
    return Prepared(
        sales,
        arrays["log_price"],
        arrays["period"],
        frequency,
        arrays["artist"].astype(object),
        arrays["medium"].astype(object),
        arrays["log_area"],
        arrays["age"],
        arrays["house"].astype(object),
        arrays["sold"].astype(bool),
        0,
    )


def load_market_model(folder: str | Path) -> LoadedMarketModel:
    """Read a model folder and refit its models (seconds).

    Raises
    ------
    MarketModelError
        The folder or a file is missing, damaged, modified, or of another schema.
    """
    folder = Path(folder)
    meta_path, data_path = folder / "model.json", folder / "data.npz"
    for path in (meta_path, data_path):
        if not path.is_file():
            raise MarketModelError(
                f"{path}: missing (is {folder} a market model folder from 'artlens market fit'?)"
            )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MarketModelError(f"{meta_path}: not readable JSON ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA:
        raise MarketModelError(f"{meta_path}: not an {SCHEMA} model file")
    if sha256_file(data_path) != meta.get("data_sha256"):
        raise MarketModelError(f"{data_path}: SHA-256 does not match model.json (damaged or modified)")
    try:
        with np.load(data_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        settings = FitSettings(**{**meta["settings"], "models": tuple(meta["settings"]["models"])})
        prepared = _prepared(arrays, str(meta["frequency"]))
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise MarketModelError(f"{data_path}: damaged model data ({exc.__class__.__name__})") from None
    paths = [str(x) for x in arrays["embedding_paths"]]
    embeddings = {p: arrays["embeddings"][i] for i, p in enumerate(paths)} if paths else None
    fitted, pca = {}, None
    for kind in meta["models"]:
        fitted[kind], found = fit_calibrated(kind, prepared, embeddings, settings)
        pca = found or pca
    model = MarketModel(fitted, pca, settings, meta.get("report", {}))
    return LoadedMarketModel(model, prepared, embeddings, dict(meta.get("rates") or {}), meta.get("backbone"))
