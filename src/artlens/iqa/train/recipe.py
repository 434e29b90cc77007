"""The training recipe of the shipped quality model: pristine photos in, a model folder out.

``artlens train quality --pristine DIR`` runs :func:`train_on_pristine`. The recipe is the one the shipped
model (``artlens/quality/models/default``) was made with; its settings are stored in the model's
``config.json`` notes so the run can be repeated (``docs/models.md`` gives the command and data preparation).

1. Pristine photos (files under a folder, or the ``train`` rows of a ``manifest.csv`` written by
   ``scripts/prepare_pristine.py``) are cut into random square crops of ``size`` px after a random
   downscale (``max_size``, off in this recipe, draws each crop's side from ``size`` ... ``max_size``).
2. Each crop is distorted with several of the 14 synthetic distortions of
   :mod:`artlens.iqa.train.distortions`, each at its five levels, and everything is embedded once with the
   frozen backbone: the mean and spread of the output maps of six MobileNetV2 blocks, shallow to deep, at
   two scales (multi-level spatially pooled features; :meth:`QualityModel.embed`, ``stages``).
3. The head is fit with a regression onto the level targets plus RankIQA's margin ranking loss over pairs
   known to be ordered (:func:`~artlens.iqa.model.train_head`), with strong weight decay and dropout:
   a hundred photos give few independent contents for 2,784 CNN features. With ``finetune_blocks`` set
   (off in this recipe), that head and the last blocks of the backbone are then trained together, one crop
   and its distortions per batch (:mod:`artlens.iqa.train.finetune`), and the training set is
   embedded again with the tuned blocks, which the model folder stores (float16; 3 MB for 7 blocks).
4. A second head is fit the same way on the NSS descriptors of the same images
   (:mod:`artlens.iqa.descriptors`), ``descriptor_heads`` times from different seeds and averaged into
   one head (:func:`~artlens.iqa.model.average_heads`; a single head's figures move with its seed,
   ``docs/benchmarks.md``); the two outputs, each standardised on the training set, are added
   with the descriptor head weighted ``descriptor_weight`` (late fusion). The descriptors order noise, blur
   and compression within a photo; the CNN head adds exposure, contrast and what content looks like.
5. The fused outputs are calibrated to 0-100 with a logistic map fitted so that clean crops score about 90 and
   the worst level about 10.

References
----------
X. Liu, J. van de Weijer and A. D. Bagdanov, "RankIQA: Learning from Rankings for No-reference Image Quality
Assessment", ICCV 2017.
V. Hosu, B. Goldluecke and D. Saupe, "Effective aesthetics prediction with multi-level spatially pooled
features", CVPR 2019.
"""

from __future__ import annotations

import copy
import csv
import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr

from artlens.errors import ConfigError
from artlens.imageio import iter_image_files
from artlens.iqa.config import QualityModelConfig, multi_level
from artlens.iqa.descriptors import DESCRIPTOR_NAMES
from artlens.iqa.heads import average_heads
from artlens.iqa.model import QualityModel
from artlens.iqa.train.finetune import finetune_on_synthetic
from artlens.iqa.train.head import train_head
from artlens.iqa.train.training_set import describe_training_set, embed_training_set
from artlens.training.progress import Progress, report

__all__ = ["RECIPE", "parse_overrides", "pristine_files", "train_on_pristine"]

#: The backbone the recipe's block numbers belong to: the default of :class:`QualityModelConfig`.
_RECIPE_BACKBONE = QualityModelConfig().backbone

#: Settings of the shipped model's training run.
RECIPE: dict[str, Any] = {
    "seed": 0,
    "per_image": 3,  # random crops per pristine photo
    "per_crop": 4,  # distortions per crop, each at 5 levels
    "size": 448,  # crop side
    "max_size": None,  # when set, crop sides are drawn from [size, max_size] (tried: docs/benchmarks.md)
    # share of crops cut at the photo's own resolution, without the random downscale (artlens.assess.
    # native scores such tiles of large images); None: every crop downscaled, as the earlier models
    "native_share": None,
    # the multi-level embedding, MobileNetV2's blocks 3, 6, 10, 13, 16 and 17 (artlens.models.backbones.
    # MULTI_LEVEL_STAGES); None pools the last convolution alone, as the earlier shipped models did
    **{key: list(value) for key, value in multi_level(_RECIPE_BACKBONE).items()},
    "epochs": 60,
    "rank_weight": 1.0,
    "margin": 0.05,
    "hidden": 128,
    "dropout": 0.5,
    "weight_decay": 0.1,
    "descriptor_epochs": 150,
    "descriptor_dropout": 0.25,
    "descriptor_weight": 2.0,
    "descriptor_heads": 5,  # descriptor heads averaged, seeds seed ... seed + 4
    # fine-tuning the last backbone blocks with the CNN head after it is fitted (artlens.iqa.
    # train.finetune), then embedding the training set again; off (None) in the shipped recipe: 7 blocks
    # for 2 epochs gained on the development split but not on the held-out photos (docs/benchmarks.md)
    "finetune_blocks": None,
    "finetune_epochs": None,  # 2 when fine-tuning
    "finetune_lr": None,  # 1e-4 when fine-tuning
}

#: Fine-tuning settings used when ``finetune_blocks`` is set and these are not.
_FINETUNE_DEFAULTS = {"finetune_epochs": 2, "finetune_lr": 1e-4}

def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` recipe overrides (``artlens train quality --set``); values are read as JSON when they
    parse (numbers, ``null``), else kept as text. Raises ConfigError for a key not in :data:`RECIPE`."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in RECIPE:
            raise ConfigError(f"recipe setting {item!r}: expected KEY=VALUE with KEY one of "
                              f"{', '.join(RECIPE)}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def pristine_files(source: str | Path) -> list[Path]:
    """Pristine photos: every image under a folder, or the ``train`` rows of a ``manifest.csv``."""
    path = Path(source)
    if path.is_file() and path.suffix.lower() == ".csv":
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows or "path" not in rows[0]:
            raise ConfigError(f"{path}: a pristine manifest needs a 'path' column")
        files = [Path(r["path"]) if Path(r["path"]).is_absolute() else path.parent / r["path"]
                 for r in rows if r.get("split", "train") == "train"]
    elif path.is_dir():
        files = list(iter_image_files([path]))
    else:
        raise ConfigError(f"{path}: not a folder of pristine photos nor a manifest .csv")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ConfigError(f"{path}: {len(missing)} listed photo(s) missing, e.g. {missing[0]}")
    if len(files) < 4:
        raise ConfigError(f"{path}: need at least 4 pristine photos, found {len(files)}")
    return files


def _as_tuple(value: Any) -> tuple:
    """A recipe list setting as a tuple: None is empty, a single value is one item."""
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _fit_calibration(raw: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """``(a, b)`` of ``100 * sigmoid(a * raw + b)`` by least squares on the logits of the level targets.

    Targets run from 1.0 (clean) to 1/6 (level 5); they are mapped linearly to 90 ... 10 before the logit,
    so a clean photo reads about 90 and a ruined one about 10.
    """
    lo, hi = float(targets.min()), float(targets.max())
    want = 10.0 + 80.0 * (targets - lo) / max(hi - lo, 1e-6)
    logits = np.log(want / (100.0 - want))
    a, b = np.polyfit(raw.astype(np.float64), logits, 1)
    return float(a), float(b)


def train_on_pristine(pristine: Sequence[str | Path], out_dir: str | Path, *,
                      config: QualityModelConfig | None = None, cache: str | Path | None = None,
                      progress: Progress | None = None, **overrides: Any) -> dict[str, Any]:
    """Train a quality model on synthetic distortions of ``pristine`` photos and save it to ``out_dir``.

    Parameters
    ----------
    pristine
        Pristine photo files (see :func:`pristine_files`).
    out_dir
        Model folder to write.
    config
        Backbone and ``sizes`` (default: :class:`QualityModelConfig` defaults); ``stages``, ``pooling``,
        ``hidden`` and ``dropout`` come from the recipe.
    cache
        ``.npz`` feature cache: a second run with the same data and settings skips the embedding (the
        descriptors go to a sibling file, ``<name>-descriptors.npz``).
    progress
        Receives :class:`~artlens.training.ProgressEvent` records: ``embed`` (the training set embedded and
        described), with fine-tuning its ``step`` and ``epoch`` events and a second ``embed``, then ``fit``
        (the heads fitted; metrics ``train_spearman``, ``seconds``).
    **overrides
        Any key of :data:`RECIPE`.

    Returns
    -------
    dict
        The recipe, counts, timings and the training-set Spearman correlation of score and level target.
    """
    unknown = set(overrides) - set(RECIPE)
    if unknown:
        raise ConfigError(f"unknown training settings: {', '.join(sorted(unknown))}")
    recipe = {**RECIPE, **overrides}
    base = config or QualityModelConfig()
    if recipe["stages"] and base.backbone != _RECIPE_BACKBONE and "stages" not in overrides:
        raise ConfigError(f"the recipe's stages are MobileNetV2 block numbers; with backbone "
                          f"{base.backbone!r} choose its own (--set stages=[...]) or the last convolution "
                          "(--set stages=null)")
    model = QualityModel(replace(base, hidden=recipe["hidden"], dropout=recipe["dropout"],
                                 stages=_as_tuple(recipe["stages"]), pooling=_as_tuple(recipe["pooling"])))
    files = [Path(p) for p in pristine]
    report(progress, "embed", 0, 1, {"photos": len(files)})
    start = time.perf_counter()
    crop_set = {"seed": recipe["seed"], "per_image": recipe["per_image"], "size": recipe["size"],
                "per_crop": recipe["per_crop"], "max_size": recipe["max_size"],
                "native_share": recipe["native_share"]}
    features, targets, pairs = embed_training_set(model, files, cache=cache, **crop_set)
    descriptor_cache = None if cache is None else Path(cache).with_name(Path(cache).stem + "-descriptors.npz")
    descriptors = describe_training_set(files, cache=descriptor_cache, **crop_set)
    # undefined statistics (flat crops: no local structure to fit) read as the column mean, as at inference
    descriptors = np.where(np.isfinite(descriptors), descriptors, np.nanmean(descriptors, axis=0))
    embed_s = time.perf_counter() - start
    report(progress, "embed", 1, 1, {"images": len(features), "seconds": embed_s})
    report(progress, "fit", 0, 1, {"pairs": len(pairs)})
    start = time.perf_counter()
    shared = {"rank_weight": recipe["rank_weight"], "margin": recipe["margin"], "hidden": recipe["hidden"],
              "seed": recipe["seed"]}
    head = train_head(features, targets, pairs, epochs=recipe["epochs"], dropout=recipe["dropout"],
                      weight_decay=recipe["weight_decay"], **shared)
    if recipe["finetune_blocks"]:
        model = QualityModel(model.config, head=head, backbone=copy.deepcopy(model.backbone))
        recipe.update({k: v for k, v in _FINETUNE_DEFAULTS.items() if recipe[k] is None})  # stated in notes
        features = finetune_on_synthetic(model, files, blocks=recipe["finetune_blocks"],
                                         epochs=recipe["finetune_epochs"], lr=recipe["finetune_lr"],
                                         margin=recipe["margin"], progress=progress, **crop_set)
    descriptor_head = average_heads([
        train_head(descriptors, targets, pairs, epochs=recipe["descriptor_epochs"],
                   dropout=recipe["descriptor_dropout"], **{**shared, "seed": recipe["seed"] + k})
        for k in range(recipe["descriptor_heads"])])
    fit_s = time.perf_counter() - start
    with torch.inference_mode():
        cnn = head(torch.as_tensor(features)).double().numpy()
        desc = descriptor_head(torch.as_tensor(descriptors)).double().numpy()
    fusion = (float(cnn.mean()), float(cnn.std()), float(desc.mean()), float(desc.std()),
              float(recipe["descriptor_weight"]))
    fused = replace(model.config, descriptors=DESCRIPTOR_NAMES, fusion=fusion)
    trained = QualityModel(fused, head=head, backbone=model.backbone, descriptor_head=descriptor_head)
    raw = trained.raw_scores(features, descriptors)
    calibration = _fit_calibration(raw, targets)
    # settings that are off (None) are left out, so models trained before they existed keep their notes
    stated = {k: v for k, v in recipe.items() if v is not None}
    notes = {"recipe": repr(stated), "pristine_photos": str(len(files)),
             "training_images": str(len(features))}
    final = QualityModel(replace(fused, calibration=calibration, notes=notes), head=head,
                         backbone=model.backbone, descriptor_head=descriptor_head)
    final.backbone_keys = model.backbone_keys
    out = final.save(out_dir)
    rho = float(spearmanr(raw, targets)[0])
    report(progress, "fit", 1, 1, {"train_spearman": rho, "seconds": fit_s})
    return {"recipe": recipe, "photos": len(files), "images": len(features), "pairs": len(pairs),
            "embed_seconds": round(embed_s, 1), "fit_seconds": round(fit_s, 1),
            "train_spearman": round(rho, 4), "calibration": list(calibration), "model": str(out)}
