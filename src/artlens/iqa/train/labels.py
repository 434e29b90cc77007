"""Train and evaluate a quality model on a user's own judgement: a CSV of image paths with labels or scores.

The CSV has a ``path`` column (relative paths are taken from the CSV's folder) and exactly one of

- ``label``: two or more classes, e.g. ``good``/``bad`` or ``1``..``5``. They are ordered worst to best:
  ``bad < good`` for exactly {good, bad} (any case), numerically when every label is an integer, otherwise
  alphabetically unless ``class_order`` is given. The model predicts class probabilities; its 0-100 score
  is the expected position on that scale (see :class:`artlens.iqa.model.QualityModel`).
- ``score``: a numeric rating, higher is better. The model regresses it (rescaled to 0-1) with a pairwise
  ranking term, the RankIQA loss of :func:`artlens.iqa.model.train_head`.

Two modes. *Frozen* (the default) embeds every image once with the pretrained backbone
(:meth:`QualityModel.embed`) and trains only the small head, in seconds. *Fine-tuning* first does the same,
then also trains the last few blocks of the backbone (learning rate ten times lower than the head's) on
224 px inputs with random horizontal flips, with batch-norm statistics frozen -- the linear-probe-then-
fine-tune recipe of Kumar et al. Its fine-tuned tensors are saved with the head (prefix ``backbone.``).

Each image is seen as ``artlens assess`` sees it (:mod:`artlens.assess.native`): its whole frame, and for
a large image its most detailed native-resolution tiles, where blur or noise that vanishes in the shrunken
frame still shows. Training is multiple-instance learning in its simplest form [4]_ [5]_: every view is an
instance carrying its image's label, an image's views sharing one image's weight (with class labels; with
scores every view counts once, as the ranking loss of :func:`~artlens.iqa.model.train_head` takes no
weights, which differs only between images with and without tiles); an image's prediction fuses
its views exactly as assess does, ``(1 - w) * whole + w * best tile`` (:func:`artlens.assess.native.fuse`),
on class probabilities and scores alike. Fine-tuning trains on the same views, each counted once.

Before the final model is fit on every row, it is evaluated either by stratified K-fold cross-validation
(``kfold=K``) or on a stratified held-out part (``val_split``). Splits are by picture: images whose whole
frames have nearly the same perceptual hash (a photo and its blurred or noisy copies) stay on one side, with
all their views, so the figures say how the model does on pictures it has not seen rather than how well it
remembers a picture's content. When the figures are no better than chance the summary's ``warnings`` say so.
The summary goes to ``metrics.json`` beside the model files and is returned.

References
----------
.. [1] X. Liu, J. van de Weijer and A. D. Bagdanov, "RankIQA: Learning from Rankings for No-reference Image
   Quality Assessment", ICCV 2017.
.. [2] A. Kumar, A. Raghunathan, R. Jones, T. Ma and P. Liang, "Fine-Tuning can Distort Pretrained Features
   and Underperform Out-of-Distribution", ICLR 2022.
.. [3] G. King and L. Zeng, "Logistic Regression in Rare Events Data", Political Analysis 9, 2001 (class
   weights inversely proportional to class frequency).
.. [4] T. G. Dietterich, R. H. Lathrop and T. Lozano-Perez, "Solving the multiple instance problem with
   axis-parallel rectangles", Artificial Intelligence 89(1-2), 31-71, 1997.
.. [5] M.-A. Carbonneau, V. Cheplygina, E. Granger and G. Gagnon, "Multiple instance learning: A survey of
   problem characteristics and applications", Pattern Recognition 77, 329-353, 2018.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from artlens.assess import native
from artlens.errors import ConfigError, ImageLoadError
from artlens.evaluation import (
    classification_metrics,
    regression_metrics,
    roc_auc,
    save_confusion_matrix_png,
    softmax,
)
from artlens.iqa.config import QualityModelConfig, multi_level
from artlens.iqa.heads import QualityHead
from artlens.iqa.model import QualityModel
from artlens.iqa.train.finetune import tune_last_blocks
from artlens.iqa.train.head import train_class_head, train_head
from artlens.screening import metrics
from artlens.screening.backdrop import backdrop_mask
from artlens.seeding import seeded
from artlens.training.loop import FinetuneSettings
from artlens.training.losses import class_weights, ordered_pairs_loss
from artlens.training.progress import Progress, report
from artlens.training.splits import check_split, make_splits

__all__ = [
    "METRICS_FILE",
    "LabelSet",
    "chance_warnings",
    "evaluate_model",
    "read_labels",
    "train_from_labels",
]

METRICS_FILE = "metrics.json"
_MIN_ROWS = 4
_FINETUNE_SIZE = 224
_MAX_PAIRS = 50_000
#: Longest side of the copy the studio backdrop is found on (``artlens assess``'s ``iqa_size``).
_BACKDROP_SIZE = 768
#: Same picture for the splits: perceptual hashes at most this many of 64 bits apart (the duplicate finder's
#: ``artlens.search.duplicates.DEFAULT_HASH_THRESHOLD``).
_SAME_PICTURE_BITS = 8


# ------------------------------------------------------------------------------------------------------------
# Reading the CSV
# ------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LabelSet:
    """Images and the user's judgement of them.

    Attributes
    ----------
    source
        The CSV file.
    paths
        Image files, absolute.
    task
        ``"classes"`` or ``"score"``.
    classes
        Class names worst to best (``"classes"``); empty for scores.
    targets
        (N,) class indices int64, or scores float64.
    """

    source: Path
    paths: tuple[Path, ...]
    task: str
    classes: tuple[str, ...]
    targets: np.ndarray

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, idx: Sequence[int] | np.ndarray) -> LabelSet:
        """The rows ``idx``, in that order."""
        idx = np.asarray(idx, np.int64)
        return replace(self, paths=tuple(self.paths[i] for i in idx), targets=self.targets[idx])

    def strata(self, bins: int = 4) -> np.ndarray:
        """Labels to stratify splits by: the class, or the score's quantile bin (``bins`` bins)."""
        if self.task == "classes":
            return self.targets
        ranks = np.argsort(np.argsort(self.targets, kind="stable"), kind="stable")
        return (ranks * max(1, min(bins, len(self))) // max(1, len(self))).astype(np.int64)


def _fail(path: Path, message: str) -> ConfigError:
    return ConfigError(f"{path}: {message}")


def _order_classes(found: list[str], class_order: Sequence[str] | None, source: Path) -> tuple[str, ...]:
    if class_order is not None:
        order = tuple(str(c) for c in class_order)
        if len(set(order)) != len(order) or len(order) < 2:
            raise _fail(source, f"class_order needs two or more distinct classes, got {list(order)}")
        return order
    first: dict[str, str] = {}
    for label in found:  # labels differing only in case are one class, spelt as first seen
        first.setdefault(label.casefold(), label)
    distinct = sorted(first.values())
    if len(distinct) < 2:
        raise _fail(source, f"needs at least two classes in 'label', found only {distinct}")
    if set(first) == {"good", "bad"}:
        return ("bad", "good")
    try:
        return tuple(sorted(distinct, key=int))
    except ValueError:
        return tuple(distinct)


def read_labels(csv_path: str | Path, *, class_order: Sequence[str] | None = None) -> LabelSet:
    """Read a label file: a ``path`` column and one of ``label`` or ``score``.

    Parameters
    ----------
    csv_path
        The CSV (UTF-8, header row; column names are matched case-insensitively).
    class_order
        Classes worst to best, overriding the automatic order; every label must be one of them (compared
        case-insensitively). Used to read a test set in a trained model's class order.

    Returns
    -------
    LabelSet

    Raises
    ------
    ConfigError
        One line naming the file: it is missing or empty, has no ``path`` column, has neither or both of
        ``label`` and ``score``, a score that is not a finite number, an empty label or path, image files
        that do not exist (up to five named), fewer than two classes, or fewer than four rows.
    """
    source = Path(csv_path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{source}: label file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(source, f"cannot read the label file ({exc})") from None
    rows = [r for r in csv.reader(text.splitlines()) if any(cell.strip() for cell in r)]
    if not rows:
        raise _fail(source, "the label file is empty; expected a header 'path,label' or 'path,score'")
    header = [h.strip().lower() for h in rows[0]]
    if "path" not in header:
        raise _fail(source, f"no 'path' column (columns: {', '.join(header) or 'none'})")
    has_label, has_score = "label" in header, "score" in header
    if has_label == has_score:
        which = "both" if has_label else "neither"
        raise _fail(source, f"needs exactly one of the columns 'label' or 'score', found {which}")
    task = "classes" if has_label else "score"
    p_col, v_col = header.index("path"), header.index("label" if has_label else "score")
    data = rows[1:]
    if len(data) < _MIN_ROWS:
        raise _fail(source, f"needs at least {_MIN_ROWS} labelled images, found {len(data)}")
    base = source.parent
    paths: list[Path] = []
    values: list[str] = []
    for line, row in enumerate(data, start=2):
        cells = [*row, *[""] * (max(p_col, v_col) + 1 - len(row))]
        raw_path, value = cells[p_col].strip(), cells[v_col].strip()
        if not raw_path:
            raise _fail(source, f"line {line}: empty path")
        if not value:
            raise _fail(source, f"line {line}: empty {header[v_col]}")
        p = Path(raw_path).expanduser()
        paths.append(p if p.is_absolute() else base / p)
        values.append(value)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise _fail(source, f"{len(missing)} image file(s) not found: {', '.join(missing[:5])}{more}")
    if task == "score":
        scores = []
        for line, value in enumerate(values, start=2):
            try:
                number = float(value)
            except ValueError:
                raise _fail(source, f"line {line}: score {value!r} is not a number") from None
            if not math.isfinite(number):
                raise _fail(source, f"line {line}: score {value!r} is not a finite number")
            scores.append(number)
        if len(set(scores)) < 2:
            raise _fail(source, "all scores are equal; nothing to learn")
        return LabelSet(source, tuple(paths), task, (), np.asarray(scores, np.float64))
    classes = _order_classes(values, class_order, source)
    lookup = {c.casefold(): i for i, c in enumerate(classes)}
    unknown = sorted({v for v in values if v.casefold() not in lookup})
    if unknown:
        raise _fail(source, f"labels not among the classes {list(classes)}: {', '.join(unknown[:5])}")
    targets = np.asarray([lookup[v.casefold()] for v in values], np.int64)
    return LabelSet(source, tuple(paths), task, classes, targets)


# ------------------------------------------------------------------------------------------------------------
# Heads
# ------------------------------------------------------------------------------------------------------------

def _score_pairs(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(better, worse) index pairs of all strictly ordered rows; a random subset when there are many."""
    i, j = np.nonzero(scores[:, None] > scores[None, :])
    pairs = np.stack([i, j], axis=1).astype(np.int64)
    if len(pairs) > _MAX_PAIRS:
        pairs = pairs[rng.choice(len(pairs), _MAX_PAIRS, replace=False)]
    return pairs


def _score_range(targets: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(targets)), float(np.max(targets))
    return lo, (hi if hi > lo else lo + 1.0)


# ------------------------------------------------------------------------------------------------------------
# Images
# ------------------------------------------------------------------------------------------------------------

def _shrink(rgb: np.ndarray, longest: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = longest / max(h, w)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class _Views:
    """Every image's views, flattened: its whole frame, then its native tiles (:mod:`artlens.assess.native`).

    ``owner`` (M,) is the row of the image each view belongs to, ``tile`` (M,) whether it is a tile, and
    ``weight`` (N,) each image's :func:`~artlens.assess.native.native_weight` (0 without tiles).
    """

    images: list[np.ndarray]
    owner: np.ndarray
    tile: np.ndarray
    weight: np.ndarray

    def pictures(self) -> np.ndarray:
        """(N,) group of each image: images whose whole frames have perceptual hashes at most
        :data:`_SAME_PICTURE_BITS` apart (joined transitively) are one picture, e.g. a photo and its blurred
        or noisy copies; numbered in order of first appearance."""
        from artlens.search.phash import hamming_distances, phash
        from artlens.search.unionfind import UnionFind

        hashes = np.asarray([phash(self.images[i]) for i in np.flatnonzero(~self.tile)], np.int64)
        sets = UnionFind(range(len(hashes)))
        for i in range(len(hashes)):
            for j in np.flatnonzero(hamming_distances(hashes[i + 1:], hashes[i]) <= _SAME_PICTURE_BITS):
                sets.union(i, i + 1 + int(j))
        roots = [sets.find(i) for i in range(len(hashes))]
        first = {r: n for n, r in enumerate(dict.fromkeys(roots))}
        return np.asarray([first[r] for r in roots], np.int64)

    def of(self, rows: np.ndarray) -> np.ndarray:
        """Indices of the views of the images ``rows``."""
        return np.flatnonzero(np.isin(self.owner, rows))

    def instance_weights(self) -> np.ndarray:
        """(M,) training weight of each view: ``1 / views of its image``, so each image counts once."""
        return 1.0 / np.bincount(self.owner, minlength=len(self.weight))[self.owner]

    def fuse(self, rows: np.ndarray, views: np.ndarray, pred: np.ndarray, scores: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """Per-image predictions and 0-100 scores of the images ``rows`` from those of their ``views`` (as
        :meth:`of` gives them): the whole frame's, joined with the best tile's (the highest 0-100 score) by
        :func:`artlens.assess.native.fuse` with the image's native weight, as ``artlens assess`` does."""
        owner, tile = self.owner[views], self.tile[views]
        out_pred, out_scores = [], []
        for r in rows:
            whole = int(np.flatnonzero((owner == r) & ~tile)[0])
            tiles = np.flatnonzero((owner == r) & tile)
            if len(tiles) == 0:
                out_pred.append(pred[whole])
                out_scores.append(scores[whole])
                continue
            best = int(tiles[native.best_tile(scores[tiles])])
            w = float(self.weight[r])
            out_pred.append(native.fuse(pred[whole], pred[best], w))
            out_scores.append(native.fuse(scores[whole], scores[best], w))
        return np.asarray(out_pred), np.asarray(out_scores, np.float64)


def _load_views(labels: LabelSet, longest: int, view_side: int, progress: Progress | None
                ) -> tuple[_Views, list[int], list[dict]]:
    """Decode every image and keep its views: the whole frame downscaled so its longest side is at most
    ``longest`` (what the model sees), and the first :func:`~artlens.assess.native.tile_count` native tiles
    of :func:`~artlens.assess.native.detail_tiles` (studio backdrop left out), as ``artlens assess`` picks
    them for a model whose largest view is ``view_side``. Only the crops are kept, not the full image."""
    from artlens.imageio import load_image

    per_image: list[list[np.ndarray]] = []
    weights: list[float] = []
    kept: list[int] = []
    skipped: list[dict] = []
    for i, path in enumerate(labels.paths):
        try:
            rgb = load_image(path).rgb
        except ImageLoadError as exc:
            skipped.append({"path": str(path), "reason": exc.reason})
        else:
            h, w = rgb.shape[:2]
            count = native.tile_count(w, h, view_side)
            crops: list[np.ndarray] = []
            if count:
                backdrop = backdrop_mask(metrics.working_image(rgb, _BACKDROP_SIZE))
                crops = [np.ascontiguousarray(t.crop(rgb)).copy()
                         for t in native.detail_tiles(rgb, count, backdrop=backdrop)]
            per_image.append([_shrink(rgb, longest), *crops])
            weights.append(native.native_weight(w, h, view_side) if crops else 0.0)
            kept.append(i)
        report(progress, "load", i + 1, len(labels))
    counts = [len(v) for v in per_image]
    views = _Views(images=[v for image in per_image for v in image],
                   owner=np.repeat(np.arange(len(per_image)), counts).astype(np.int64),
                   tile=np.concatenate([[False] + [True] * (c - 1) for c in counts]).astype(bool)
                   if counts else np.zeros(0, bool),
                   weight=np.asarray(weights, np.float64))
    return views, kept, skipped


def _embed(model: QualityModel, images: list[np.ndarray], progress: Progress | None,
           chunk: int = 16) -> torch.Tensor:
    parts = []
    for start in range(0, len(images), chunk):
        parts.append(model.embed(images[start:start + chunk]))
        report(progress, "embed", min(start + chunk, len(images)), len(images))
    return torch.cat(parts) if parts else torch.zeros((0, model.config.embed_dim))


# ------------------------------------------------------------------------------------------------------------
# Fitting one model
# ------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Settings:
    task: str
    n_classes: int
    score_range: tuple[float, float]
    epochs: int
    finetune_epochs: int
    finetune_blocks: int
    lr: float
    batch_size: int
    seed: int


def _fit_head(x: torch.Tensor, y: np.ndarray, config: QualityModelConfig, s: _Settings,
              weight: np.ndarray | None = None) -> QualityHead:
    if s.task == "classes":
        return train_class_head(x, y, s.n_classes, epochs=s.epochs, lr=s.lr, hidden=config.hidden,
                                dropout=config.dropout, seed=s.seed, sample_weight=weight)
    lo, hi = s.score_range
    t = ((y - lo) / (hi - lo)).astype(np.float32)
    pairs = _score_pairs(y, np.random.default_rng(s.seed))
    return train_head(x, t, pairs, epochs=s.epochs, lr=s.lr, hidden=config.hidden, dropout=config.dropout,
                      seed=s.seed, margin=0.05)


def _finetune(model: QualityModel, images: list[np.ndarray], y: np.ndarray, s: _Settings,
              progress: Progress | None) -> QualityModel:
    """Train the head and the last blocks of a private copy of the backbone together, in place (LP-FT:
    :func:`artlens.iqa.train.finetune.tune_last_blocks`; the blocks learn at a tenth of the head's rate)."""
    device = model.backbone.device
    if s.task == "classes":
        ce = nn.CrossEntropyLoss(weight=class_weights(y, s.n_classes).to(device))
        target = torch.as_tensor(y, dtype=torch.int64)
    else:
        lo, hi = s.score_range
        target = torch.as_tensor((y - lo) / (hi - lo), dtype=torch.float32)
    rng = np.random.default_rng(s.seed)
    n = len(images)

    def batches(_epoch: int) -> list[np.ndarray]:
        order = rng.permutation(n)
        return [order[start:start + s.batch_size] for start in range(0, n, s.batch_size)]

    def loss(idx: np.ndarray) -> torch.Tensor:
        batch = [images[i][:, ::-1] if rng.random() < 0.5 else images[i] for i in idx]
        out = model.head(model.pooled(batch, len(batch)).to(device))
        t = target[idx].to(out.device)
        if s.task == "classes":
            return ce(out, t)
        return nn.functional.mse_loss(out, t) + ordered_pairs_loss(out, t, 0.05)

    settings = FinetuneSettings(epochs=s.finetune_epochs, lr=s.lr, body_lr_scale=0.1, weight_decay=1e-3)
    with seeded(s.seed):  # dropout masks
        tune_last_blocks(model, s.finetune_blocks, batches, loss, steps_per_epoch=-(-n // s.batch_size),
                         settings=settings, generators={"order": rng}, progress=progress)
    return model


def _fit(images: list[np.ndarray], x: torch.Tensor, y: np.ndarray, config: QualityModelConfig,
         backbone, s: _Settings, finetune: bool, progress: Progress | None,
         weight: np.ndarray | None = None) -> QualityModel:
    """One trained model on these views: head on cached features, then optionally fine-tuning."""
    head = _fit_head(x, y, config, s, weight)
    if not finetune:
        return QualityModel(config, head, backbone)
    model = QualityModel(config, head, copy.deepcopy(backbone))
    return _finetune(model, images, y, s, progress)


def _predict(model: QualityModel, x: torch.Tensor | None, images: list[np.ndarray], s: _Settings
             ) -> tuple[np.ndarray, np.ndarray]:
    """(predictions, 0-100 scores); predictions are class probabilities (N, K) or scores in label units."""
    feats = x if x is not None and not model.backbone_keys else model.embed(images)
    raw = model.raw_scores(feats)
    scores = model.scores_from_raw(raw)
    if s.task == "classes":
        return softmax(raw), scores
    lo, hi = s.score_range
    return lo + raw * (hi - lo), scores


def _metrics(task: str, classes: Sequence[str], y: np.ndarray, pred: np.ndarray) -> dict:
    if task == "classes":
        return classification_metrics(y, pred.argmax(axis=1), classes, proba=pred)
    return regression_metrics(y, pred)


_SCALARS = {"classes": ("accuracy", "roc_auc", ("macro", "precision"), ("macro", "recall"), ("macro", "f1")),
            "score": ("srcc", "plcc", "rmse", "mae")}


def _mean_metrics(task: str, folds: list[dict]) -> dict:
    out: dict = {}
    for key in _SCALARS[task]:
        path = key if isinstance(key, tuple) else (key,)
        values = []
        for m in folds:
            v = m
            for part in path:
                v = v.get(part) if isinstance(v, dict) else None
            if v is not None:
                values.append(float(v))
        name = "_".join(path)
        out[name] = float(np.mean(values)) if values else None
        out[name + "_std"] = float(np.std(values)) if len(values) > 1 else None
    return out


def chance_warnings(evaluation: dict, task: str, classes: Sequence[str]) -> list[str]:
    """Plain warnings when the validation shows no more skill than guessing.

    Class labels: accuracy at or below the majority class's share (always answering the commonest class), or
    for two classes ROC-AUC at or below 0.5; scores: Spearman correlation at or below 0. The k-fold figures
    are the means over the folds (the chance level from all rows), the hold-out ones those of the held-out
    rows. Empty when nothing was validated or the figures beat chance.
    """
    method = evaluation.get("method")
    if method == "kfold":
        figures, pooled, name = evaluation["mean"], evaluation["pooled"], "k-fold"
    elif method == "holdout":
        figures = pooled = evaluation["metrics"]
        name = "hold-out"
    else:
        return []
    advice = "the model has not learned to tell these labels apart; check the labels or add images"
    out = []
    if task == "classes":
        support = [int(pooled["per_class"][c]["support"]) for c in classes]
        majority = int(np.argmax(support))
        share = support[majority] / max(1, sum(support))
        accuracy = figures.get("accuracy")
        if accuracy is not None and accuracy <= share + 1e-9:
            out.append(f"{name} accuracy {accuracy:.2f} is no better than always answering "
                       f"'{classes[majority]}' ({share:.2f}): {advice}")
        auc = figures.get("roc_auc")
        if len(classes) == 2 and auc is not None and math.isfinite(auc) and auc <= 0.5:
            out.append(f"{name} ROC-AUC {auc:.2f} is no better than a coin toss (0.50): {advice}")
    else:
        srcc = figures.get("srcc")
        if srcc is not None and math.isfinite(srcc) and srcc <= 0:
            out.append(f"{name} Spearman correlation {srcc:.2f} is no better than chance (0): the model does "
                       "not rank these images as the scores do; check the scores or add images")
    return out


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


# ------------------------------------------------------------------------------------------------------------
# Public entry points
# ------------------------------------------------------------------------------------------------------------

def train_from_labels(labels: LabelSet | str | Path, out_dir: str | Path, *, backbone: str = "mobilenet_v2",
                      finetune: bool = False, kfold: int = 0, epochs: int | None = None, seed: int = 0,
                      val_split: float = 0.2, progress: Progress | None = None,
                      config: QualityModelConfig | None = None, finetune_blocks: int = 3,
                      lr: float = 1e-3, batch_size: int = 8, device: str | None = None,
                      class_order: Sequence[str] | None = None) -> dict:
    """Train a quality model on a label file, evaluate it, fit it on every row and save it.

    Parameters
    ----------
    labels
        A :class:`LabelSet` or the CSV to read with :func:`read_labels`.
    out_dir
        The model folder to write (``config.json``, ``model.safetensors``, ``metrics.json``).
    backbone
        Pretrained feature extractor (:func:`artlens.models.backbones.get_backbone`).
    finetune
        Also train the last ``finetune_blocks`` blocks of the backbone (see the module notes), on every view
        (a large image's native tiles too: up to four times the images per epoch).
    kfold
        K >= 2: stratified K-fold cross-validation by picture before the final fit (at most the number of
        distinct pictures); 0: a held-out split instead.
    epochs
        Head epochs on cached features (default 150); with ``finetune``, the fine-tuning epochs after that
        (default 3).
    seed
        Seeds splits, initialisation and augmentation.
    val_split
        Held-out fraction when ``kfold`` is 0 (stratified by class, or by score quartile); 0 skips it.
    progress
        Receives :class:`~artlens.training.ProgressEvent` records: stages ``load``, ``embed``, ``fold``,
        ``final``, and with ``finetune`` the final fit's ``step`` and ``epoch``.
    config
        Embedding and head settings (sizes, pooling, stages, hidden, dropout); default
        :class:`QualityModelConfig` with the backbone's multi-level embedding (:func:`artlens.iqa.
        config.multi_level`: for MobileNetV2 the shipped model's six blocks, which beat the last
        convolution on held-out photos, ``benchmarks/quality_labels.py``) and ``sizes=(224,)`` when
        fine-tuning. Its ``task`` and ``classes`` are set from the labels.
    finetune_blocks, lr, batch_size
        Blocks to unfreeze, the head's learning rate (the backbone's is a tenth), images per fine-tuning
        step.
    device
        Torch device (:func:`artlens.models.backbones.select_device`).
    class_order
        Passed to :func:`read_labels` when ``labels`` is a path.

    Returns
    -------
    dict
        The summary also written to ``metrics.json``: ``model_dir``, ``labels``, ``task``, ``classes``,
        ``class_counts`` (or ``score_range``), ``n_rows``, ``n_used``, ``skipped`` ([{path, reason}]),
        ``settings``, ``views`` (``images_with_tiles``, ``tiles``, ``total``), ``evaluation`` (``{"method":
        "kfold", "k", "folds": [metrics], "mean": {...}, "pooled": metrics, "pictures"}``, ``{"method":
        "holdout", "n_train", "n_test", "metrics", "pictures"}`` or ``{"method": "none"}``), ``warnings``
        (:func:`chance_warnings`, plain sentences) and ``seconds``. Class metrics are those of
        :func:`artlens.evaluation.classification_metrics`, score metrics those of
        :func:`artlens.evaluation.regression_metrics` in the label's units.

    Raises
    ------
    ConfigError
        Invalid label file or settings, or too few readable images.
    """
    from artlens.models.backbones import get_backbone

    t0 = time.perf_counter()
    ls = labels if isinstance(labels, LabelSet) else read_labels(labels, class_order=class_order)
    check_split(val_split, kfold, required=False)
    if finetune_blocks < 1 or batch_size < 1 or lr <= 0:
        raise ConfigError("finetune_blocks, batch_size and lr must be positive")
    head_epochs = 150 if epochs is None or finetune else epochs
    ft_epochs = (3 if epochs is None else epochs) if finetune else 0
    if head_epochs < 1 or (finetune and ft_epochs < 1):
        raise ConfigError(f"epochs must be positive, got {epochs}")
    base = config or QualityModelConfig(sizes=(_FINETUNE_SIZE,) if finetune else QualityModelConfig().sizes,
                                        **multi_level(backbone))
    cfg = replace(base, backbone=backbone, task=ls.task, classes=ls.classes, feature_dim=0)
    shared = get_backbone(backbone, device=device)
    probe = QualityModel(cfg, backbone=shared)
    cfg = probe.config

    views, kept, skipped = _load_views(ls, max(cfg.sizes), cfg.sizes[0], progress)
    images = views.images
    used = ls.subset(kept)
    if len(used) < _MIN_ROWS:
        raise ConfigError(f"{ls.source}: only {len(used)} of {len(ls)} images could be read; "
                          f"need {_MIN_ROWS}")
    if used.task == "classes" and len(np.unique(used.targets)) < 2:
        raise ConfigError(f"{ls.source}: the readable images hold fewer than two classes")
    t1 = time.perf_counter()
    x = _embed(probe, images, progress)
    t2 = time.perf_counter()
    y = used.targets
    y_views = y[views.owner]
    w_views = views.instance_weights()
    s = _Settings(task=used.task, n_classes=len(used.classes), score_range=_score_range(y) if used.task ==
                  "score" else (0.0, 1.0), epochs=head_epochs, finetune_epochs=ft_epochs,
                  finetune_blocks=finetune_blocks, lr=lr, batch_size=batch_size, seed=seed)

    def fit_eval(train_idx: np.ndarray, test_idx: np.ndarray) -> tuple[dict, np.ndarray]:
        # split by image: every view of an image is on the same side
        tr, te = views.of(train_idx), views.of(test_idx)
        model = _fit([images[i] for i in tr], x[tr], y_views[tr], cfg, shared, s, finetune, None, w_views[tr])
        pred, scores = _predict(model, x[te], [images[i] for i in te], s)
        pred, _ = views.fuse(test_idx, te, pred, scores)
        return _metrics(s.task, used.classes, y[test_idx], pred), pred

    strata = used.strata()
    pictures = views.pictures()
    n_pictures = int(pictures.max()) + 1
    parts = make_splits(strata, val_split=val_split, kfold=kfold, seed=seed, groups=pictures, required=False,
                        unit="distinct pictures")
    if kfold >= 2:
        folds, oof = [], None
        report(progress, "fold", 0, kfold)
        for f, (tr, te) in enumerate(parts):
            m, pred = fit_eval(tr, te)
            folds.append(m)
            if oof is None:
                oof = np.zeros((len(used), *pred.shape[1:]))
            oof[te] = pred
            report(progress, "fold", f + 1, kfold)
        evaluation = {"method": "kfold", "k": kfold, "folds": folds, "mean": _mean_metrics(s.task, folds),
                      "pooled": _metrics(s.task, used.classes, y, oof), "pictures": n_pictures}
    elif val_split > 0:
        tr, te = parts[0] if parts else (np.zeros(0, np.int64), np.zeros(0, np.int64))
        if len(te) == 0 or len(tr) < 2:
            evaluation = {"method": "none", "reason": "too few images for a held-out split"}
        else:
            m, _ = fit_eval(tr, te)
            evaluation = {"method": "holdout", "n_train": len(tr), "n_test": len(te), "metrics": m,
                          "pictures": n_pictures}
    else:
        evaluation = {"method": "none"}
    t3 = time.perf_counter()

    report(progress, "final", 0, 1)
    final = _fit(images, x, y_views, cfg, shared, s, finetune, progress, w_views)
    report(progress, "final", 1, 1)
    settings = {"backbone": backbone, "finetune": finetune, "finetune_blocks": finetune_blocks if finetune
                else 0, "head_epochs": head_epochs, "finetune_epochs": ft_epochs, "lr": lr,
                "batch_size": batch_size, "seed": seed, "kfold": kfold, "val_split": val_split,
                "sizes": list(cfg.sizes), "pooling": list(cfg.pooling), "hidden": cfg.hidden}
    notes = {"trained_with": "artlens.iqa.train.labels", "labels": str(ls.source),
             "mode": "finetune" if finetune else "frozen", "n_images": str(len(used))}
    if s.task == "score":
        notes.update(score_min=repr(s.score_range[0]), score_max=repr(s.score_range[1]))
    final.config = replace(final.config, notes=notes)
    out = final.save(out_dir)
    t4 = time.perf_counter()
    summary = {
        "model_dir": str(out), "labels": str(ls.source), "task": s.task, "classes": list(used.classes),
        "n_rows": len(ls), "n_used": len(used), "skipped": skipped, "settings": settings,
        "views": {"images_with_tiles": int(np.count_nonzero(views.weight > 0)),
                  "tiles": int(np.count_nonzero(views.tile)), "total": len(images)},
        "evaluation": evaluation, "warnings": chance_warnings(evaluation, s.task, used.classes),
        "seconds": {"load": t1 - t0, "embed": t2 - t1, "evaluate": t3 - t2, "final_fit": t4 - t3,
                    "total": t4 - t0},
    }
    if s.task == "classes":
        summary["class_counts"] = {c: int(np.sum(y == i)) for i, c in enumerate(used.classes)}
    else:
        summary["score_range"] = list(s.score_range)
    summary = _jsonable(summary)
    (out / METRICS_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def evaluate_model(model_dir: str | Path, labels: LabelSet | str | Path, *,
                   confusion_png: str | Path | None = None, progress: Progress | None = None,
                   device: str | None = None) -> dict:
    """Evaluate a saved quality model on a labelled test set.

    Each image is seen and its views fused as ``artlens assess`` and :func:`train_from_labels` do (whole
    frame and native tiles).

    Parameters
    ----------
    model_dir
        A folder saved by :meth:`QualityModel.save` (e.g. by :func:`train_from_labels`).
    labels
        A :class:`LabelSet` or a CSV; for a class model it is read in the model's class order.
    confusion_png
        Where to draw the confusion matrix (class labels only).
    progress
        Receives :class:`~artlens.training.ProgressEvent` records (stages ``load``, ``embed``).
    device
        Torch device.

    Returns
    -------
    dict
        ``model_dir``, ``labels``, ``task`` (of the labels), ``n``, ``skipped``, ``metrics`` and
        ``predictions`` ([{path, true, predicted, score}]), plus ``confusion_png`` when drawn. Class labels
        on a class model: :func:`~artlens.evaluation.classification_metrics`. Scores:
        :func:`~artlens.evaluation.regression_metrics` against the model's prediction in the training
        labels' units (a model trained on scores) or its 0-100 score (any other model). Class labels on a
        score model: ``srcc`` between class position and score, and for two classes ``roc_auc``.

    Raises
    ------
    ConfigError
        Invalid labels, or score labels for a class model.
    """
    model = QualityModel.load(model_dir, device=device)
    c = model.config
    if isinstance(labels, LabelSet):
        ls = labels
    else:
        ls = read_labels(labels, class_order=c.classes if c.task == "classes" else None)
    if c.task == "classes" and (ls.task != "classes" or tuple(ls.classes) != tuple(c.classes)):
        raise ConfigError(f"{ls.source}: the model predicts classes {list(c.classes)}; the test labels need "
                          "a 'label' column with those classes")
    views, kept, skipped = _load_views(ls, max(c.sizes), c.sizes[0], progress)
    used = ls.subset(kept)
    if len(used) == 0:
        raise ConfigError(f"{ls.source}: none of the images could be read")
    raw_views = model.raw_scores(_embed(model, views.images, progress), model.describe(views.images))
    # class probabilities, or raw scores (affine in the label's units), fused per image as assess fuses them
    raw, scores = views.fuse(np.arange(len(used)), np.arange(len(views.images)),
                             softmax(raw_views) if c.task == "classes" else raw_views,
                             model.scores_from_raw(raw_views))
    y = used.targets
    result: dict = {"model_dir": str(model_dir), "labels": str(ls.source), "task": ls.task, "n": len(used),
                    "skipped": skipped}
    if c.task == "classes":
        proba = raw
        pred = proba.argmax(axis=1)
        metrics = classification_metrics(y, pred, c.classes, proba=proba)
        predicted = [c.classes[i] for i in pred]
        truth = [c.classes[i] for i in y]
    elif ls.task == "score":
        lo, hi = c.notes.get("score_min"), c.notes.get("score_max")
        values = float(lo) + raw * (float(hi) - float(lo)) if lo is not None and hi is not None else scores
        metrics = regression_metrics(y, values)
        predicted, truth = values.tolist(), y.tolist()
    else:
        metrics = {"n": len(used), "srcc": regression_metrics(y, scores)["srcc"], "roc_auc": None}
        if len(ls.classes) == 2:
            metrics["roc_auc"] = roc_auc(y == 1, scores)
        predicted, truth = scores.tolist(), [ls.classes[i] for i in y]
    result["metrics"] = metrics
    result["predictions"] = [{"path": str(p), "true": t, "predicted": q, "score": float(sc)}
                             for p, t, q, sc in zip(used.paths, truth, predicted, scores, strict=True)]
    if confusion_png is not None and "confusion_matrix" in metrics:
        title = f"{Path(model_dir).name} on {ls.source.name} (n={len(used)})"
        result["confusion_png"] = str(save_confusion_matrix_png(metrics["confusion_matrix"], c.classes,
                                                                confusion_png, title=title))
    return _jsonable(result)
