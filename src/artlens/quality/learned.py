"""A learned no-reference quality model: frozen pretrained features and a small trained head.

The backbone (MobileNetV2 by default) is frozen. :meth:`QualityModel.embed` runs it on the whole frame,
downscaled so its longest side is at most ``sizes[0]`` (then at each smaller size in ``sizes``), padded to a
multiple of 32 rather than centre-cropped, and pools its last convolution's maps, or the maps of several
blocks from shallow to deep (``stages``: multi-level features [3]_, which keep the local statistics that
distortions change), with several statistics (mean, and spread or peak statistics that keep a small sharp or
damaged region visible in a large frame). The pooled vectors of all scales are concatenated; a head
(standardise -> Linear -> ReLU -> Dropout -> Linear) maps them to a raw score, and
``quality = 100 * sigmoid(a * raw + b)`` maps that to 0-100, higher is better.

The head is trained on cached features (:func:`train_head`) in seconds: regression onto distortion-level
targets plus a margin ranking loss over pairs known to be ordered (a clean crop beats its distorted
versions; a lower level of one distortion beats a higher level), the self-supervised ranking idea of RankIQA.
Training data come from :func:`build_training_set` (or, crop by crop with a feature cache,
:func:`embed_training_set`) over pristine photos and the distortions of :mod:`artlens.quality.distortions`.

A trained model is a folder: ``config.json`` (:class:`QualityModelConfig`) and ``model.safetensors`` (the
head only; the backbone is named in the config and resolved through :mod:`artlens.weights`).

Two tasks share this format. ``task="score"`` (the default) has one head output mapped to 0-100 as above.
``task="classes"`` (a model trained on a user's own labels, :mod:`artlens.quality.labels`) has one output per
class in ``classes``, ordered worst to best; :meth:`QualityModel.predict_proba` gives the softmax
probabilities and :meth:`QualityModel.score` the expected ordinal position ``100 * sum_i p_i * i / (K - 1)``.
A model whose last backbone blocks were fine-tuned also stores those blocks' tensors in
``model.safetensors`` under the prefix ``backbone.`` (keys of the backbone's trunk ``state_dict``);
:meth:`QualityModel.load` applies them to a private copy of the backbone, never to the shared one.

References
----------
.. [1] X. Liu, J. van de Weijer and A. D. Bagdanov, "RankIQA: Learning from Rankings for No-reference Image
   Quality Assessment", ICCV 2017.
.. [2] M. Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018.
.. [3] V. Hosu, B. Goldluecke and D. Saupe, "Effective aesthetics prediction with multi-level spatially pooled
   features", CVPR 2019.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from artlens.backbones import MULTI_LEVEL_STAGES, Backbone, StageMaps, check_stages, get_backbone
from artlens.errors import ArtlensError, ConfigError, ImageLoadError, WeightsError
from artlens.evaluation import softmax
from artlens.quality.distortions import DISTORTIONS, LEVELS
from artlens.quality.model_files import CONFIG_FILE, ONNX_FILE, WEIGHTS_FILE
from artlens.seeding import seeded

__all__ = [
    "MULTI_LEVEL_POOLING",
    "SCHEMA",
    "QualityHead",
    "QualityModel",
    "QualityModelConfig",
    "average_heads",
    "build_training_set",
    "calibrated",
    "describe_training_set",
    "embed_training_set",
    "fuse_heads",
    "level_target",
    "load_config",
    "multi_level",
    "normaliser",
    "prepare_image",
    "quality_from_raw",
    "train_head",
]

SCHEMA = "artlens.quality-model/1"
#: The config keys that determine :meth:`QualityModel.embed`'s features (feature caches are keyed by them).
EMBEDDING_KEYS = frozenset({"backbone", "sizes", "pooling", "stages"})
#: Statistics pooled per channel of each multi-level stage: mean and spread.
MULTI_LEVEL_POOLING: tuple[str, ...] = ("mean", "std")
_STRIDE = 32
_POOLS = ("mean", "std", "max")
_TASKS = ("score", "classes")
BACKBONE_PREFIX = "backbone."
DESCRIPTOR_PREFIX = "descriptor_head."


# ------------------------------------------------------------------------------------------------------------
# Configuration
# ------------------------------------------------------------------------------------------------------------

def multi_level(backbone: str) -> dict[str, tuple]:
    """``stages`` and ``pooling`` of ``backbone``'s multi-level embedding (mean and spread of the maps of
    its :data:`~artlens.backbones.MULTI_LEVEL_STAGES` blocks; Hosu et al., CVPR 2019), or ``{}`` for a
    backbone without one, which then pools its last convolution (:class:`QualityModelConfig` defaults)."""
    stages = MULTI_LEVEL_STAGES.get(backbone)
    return {"stages": stages, "pooling": MULTI_LEVEL_POOLING} if stages else {}


@dataclass(frozen=True)
class QualityModelConfig:
    """Everything needed to rebuild a :class:`QualityModel` apart from the head's weights.

    Attributes
    ----------
    backbone
        Name passed to :func:`artlens.backbones.get_backbone`.
    sizes
        Longest image side (px) at each scale, largest first; images are only ever downscaled.
    pooling
        Spatial statistics per channel, per scale: ``mean``, ``std``, ``max`` or ``qNN`` (the NN-th
        percentile over the cells, e.g. ``q90``).
    stages
        Blocks of the trunk (indices into :func:`artlens.backbones.trunk_blocks`) whose output maps are
        pooled, shallow to deep (multi-level features, :class:`artlens.backbones.StageMaps`); empty: the
        last convolution alone. A stage's map is pooled whole, so on an image padded to a multiple of 32 the
        early stages' statistics include the mirrored pad (under 32 px).
    feature_dim
        Channels pooled per scale: the backbone's last convolution's, or the stages' together (0: taken from
        the backbone when the model is built).
    hidden
        Width of the head's hidden layer (a descriptor head's width is read from its weights: an average of
        several heads is one wider head, :func:`average_heads`).
    dropout
        Dropout rate of the head while training.
    calibration
        ``(a, b)`` with ``quality = 100 * sigmoid(a * raw + b)`` (``task="score"`` only).
    schema
        Format version of the saved folder.
    notes
        Free-form strings (training data, settings); not part of the model's identity.
    task
        ``"score"``: one output, a scalar quality; ``"classes"``: one output per class.
    classes
        Class names ordered worst to best (``task="classes"``, at least two); empty for ``"score"``.
    descriptors
        Names of the NSS descriptors read by a second head, in the order it reads them (any distinct
        names of :data:`artlens.quality.descriptors.DESCRIPTOR_NAMES`), or empty for a CNN-only model
        (``task="score"`` only).
    fusion
        With descriptors: ``(cnn_mean, cnn_std, desc_mean, desc_std, weight)``; the raw score is
        ``(cnn - cnn_mean) / cnn_std + weight * (desc - desc_mean) / desc_std``, each head's output
        standardised on the training set (late fusion).
    onnx
        The record of an ONNX export of the whole model (:mod:`artlens.quality.export`), or empty;
        written by ``artlens export MODEL --onnx`` and omitted from the file when empty.
    """

    backbone: str = "mobilenet_v2"
    sizes: tuple[int, ...] = (448, 224)
    pooling: tuple[str, ...] = ("mean", "std", "max")
    stages: tuple[int, ...] = ()
    feature_dim: int = 0
    hidden: int = 128
    dropout: float = 0.25
    calibration: tuple[float, float] = (6.0, -3.0)
    schema: str = SCHEMA
    notes: dict[str, str] = field(default_factory=dict, compare=False)
    task: str = "score"
    classes: tuple[str, ...] = ()
    descriptors: tuple[str, ...] = ()
    fusion: tuple[float, ...] = ()
    onnx: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))
        object.__setattr__(self, "pooling", tuple(str(p) for p in self.pooling))
        object.__setattr__(self, "stages", check_stages(self.stages))
        object.__setattr__(self, "calibration", tuple(float(c) for c in self.calibration))
        object.__setattr__(self, "descriptors", tuple(str(d) for d in self.descriptors))
        object.__setattr__(self, "fusion", tuple(float(f) for f in self.fusion))
        if self.schema != SCHEMA:
            raise ConfigError(f"quality model schema {self.schema!r} is not supported (expected {SCHEMA!r})")
        if not self.sizes or any(s < _STRIDE for s in self.sizes):
            raise ConfigError(f"sizes must be one or more sides of at least {_STRIDE} px, got {self.sizes}")
        if not self.pooling:
            raise ConfigError("pooling needs at least one statistic")
        for p in self.pooling:
            _check_pool(p)
        if self.hidden < 1 or not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"invalid head: hidden={self.hidden}, dropout={self.dropout}")
        if len(self.calibration) != 2 or not all(math.isfinite(c) for c in self.calibration):
            raise ConfigError(f"calibration must be two finite numbers (a, b), got {self.calibration}")
        if self.task not in _TASKS:
            raise ConfigError(f"unknown task {self.task!r}; use {' or '.join(_TASKS)}")
        if self.task == "classes" and (len(self.classes) < 2 or len(set(self.classes)) != len(self.classes)):
            raise ConfigError(f"a class model needs two or more distinct classes, got {list(self.classes)}")
        if self.task == "score" and self.classes:
            raise ConfigError("classes are only allowed with task='classes'")
        if self.descriptors:
            from artlens.quality.descriptors import descriptor_columns

            if self.task != "score":
                raise ConfigError("descriptors are only allowed in a score model")
            descriptor_columns(self.descriptors)
            if len(self.fusion) != 5 or not all(math.isfinite(f) for f in self.fusion) \
                    or self.fusion[1] <= 0 or self.fusion[3] <= 0:
                raise ConfigError(f"fusion must be 5 finite numbers with positive scales, got {self.fusion}")
        elif self.fusion:
            raise ConfigError("fusion is only allowed with descriptors")
        if not isinstance(self.onnx, dict):
            raise ConfigError(f"onnx must be a JSON object (the export record), "
                              f"got {type(self.onnx).__name__}")

    @property
    def n_outputs(self) -> int:
        """Width of the head's output: 1 for a score, one per class."""
        return len(self.classes) if self.task == "classes" else 1

    @property
    def embed_dim(self) -> int:
        """Length of the pooled multi-scale feature vector."""
        return self.feature_dim * len(self.pooling) * len(self.sizes)

    def embedding_settings(self) -> dict:
        """The settings of :data:`EMBEDDING_KEYS` as :meth:`to_dict` gives them (feature cache keys)."""
        return {k: v for k, v in self.to_dict().items() if k in EMBEDDING_KEYS}

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        d = asdict(self)
        d["sizes"] = list(self.sizes)
        d["pooling"] = list(self.pooling)
        if self.stages:
            d["stages"] = list(self.stages)
        else:  # models of the last convolution alone keep the original file layout, byte for byte
            del d["stages"]
        d["calibration"] = list(self.calibration)
        if self.task == "score":  # score models keep the original file layout, byte for byte
            del d["task"], d["classes"]
        else:
            d["classes"] = list(self.classes)
        if self.descriptors:
            d["descriptors"], d["fusion"] = list(self.descriptors), list(self.fusion)
        else:
            del d["descriptors"], d["fusion"]
        if not self.onnx:
            del d["onnx"]
        return d

    @classmethod
    def from_dict(cls, data: dict) -> QualityModelConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        if not isinstance(data, dict):
            raise ConfigError(f"a quality model config must be a JSON object, got {type(data).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown quality model config keys: {', '.join(unknown)}")
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid quality model config: {exc}") from exc


def _check_pool(name: str) -> None:
    if name in _POOLS:
        return
    if name.startswith("q") and name[1:].isdigit() and 0 <= int(name[1:]) <= 100:
        return
    raise ConfigError(f"unknown pooling {name!r}; use mean, std, max or qNN (0-100)")


def _pool(maps: torch.Tensor, name: str) -> torch.Tensor:
    """(B, C, h, w) -> (B, C) by one spatial statistic."""
    flat = maps.flatten(2)
    if name == "mean":
        return flat.mean(dim=2)
    if name == "std":
        return flat.std(dim=2, correction=0)
    if name == "max":
        return flat.amax(dim=2)
    return torch.quantile(flat, int(name[1:]) / 100.0, dim=2)


def load_config(folder: str | Path) -> QualityModelConfig:
    """The :class:`QualityModelConfig` of a saved model folder (``config.json``).

    Raises
    ------
    ConfigError
        The file is missing, unreadable or invalid, or ``feature_dim`` is not set.
    """
    path = Path(folder) / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read quality model config: {exc}") from exc
    config = QualityModelConfig.from_dict(data)
    if config.feature_dim <= 0:
        raise ConfigError(f"{path}: feature_dim must be positive in a saved model")
    return config


# ------------------------------------------------------------------------------------------------------------
# Preprocessing
# ------------------------------------------------------------------------------------------------------------

def normaliser(mean: Sequence[float], std: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, offset)`` float32 (3,) with ``(rgb / 255 - mean) / std == rgb * scale - offset``."""
    scale = (1.0 / (255.0 * np.asarray(std, np.float32))).astype(np.float32)
    offset = (np.asarray(mean, np.float32) * 255.0 * scale).astype(np.float32)
    return scale, offset


def prepare_image(rgb: np.ndarray, size: int, scale: np.ndarray, offset: np.ndarray
                  ) -> tuple[np.ndarray, tuple[int, int]]:
    """Downscale so the longest side is at most ``size``, normalise, pad to a multiple of 32.

    The pad (bottom and right, mirrored) adds no feature cell: a stride-32 trunk maps the (Hp, Wp) result to
    exactly ``(Hp / 32, Wp / 32)`` cells, all of which cover the image.

    Parameters
    ----------
    rgb
        (H, W, 3) uint8.
    size
        Longest side after downscaling (images are never upscaled).
    scale, offset
        From :func:`normaliser` of the backbone's mean and std.

    Returns
    -------
    tuple
        The (3, Hp, Wp) float32 array and the number of feature cells (rows, cols) covering the image.
    """
    h, w = rgb.shape[:2]
    factor = size / max(h, w)
    if factor < 1.0:
        nh, nw = max(1, round(h * factor)), max(1, round(w * factor))
        rgb = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
    h, w = rgb.shape[:2]
    x = rgb.astype(np.float32) * scale - offset
    ph, pw = -h % _STRIDE, -w % _STRIDE
    if ph or pw:
        border = cv2.BORDER_REFLECT_101 if ph < h and pw < w else cv2.BORDER_REPLICATE
        x = cv2.copyMakeBorder(x, 0, ph, 0, pw, border)
    return np.ascontiguousarray(x.transpose(2, 0, 1)), (-(-h // _STRIDE), -(-w // _STRIDE))


# ------------------------------------------------------------------------------------------------------------
# The head
# ------------------------------------------------------------------------------------------------------------

class QualityHead(nn.Module):
    """Standardise the pooled features, then Linear -> ReLU -> Dropout -> Linear -> raw score(s).

    Parameters
    ----------
    in_dim
        Length of the input feature vector.
    hidden
        Hidden width.
    dropout
        Dropout rate (active in training mode only).
    out_dim
        Outputs: 1 for a scalar score (the output is then squeezed to (N,)), K for K class logits.
    """

    def __init__(self, in_dim: int, hidden: int = 128, dropout: float = 0.25, out_dim: int = 1) -> None:
        super().__init__()
        self.register_buffer("feature_mean", torch.zeros(in_dim))
        self.register_buffer("feature_scale", torch.ones(in_dim))
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, out_dim))

    @property
    def in_dim(self) -> int:
        return int(self.feature_mean.shape[0])

    @property
    def out_dim(self) -> int:
        return int(self.net[-1].out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_dim) features -> (N,) raw scores, or (N, out_dim) logits when ``out_dim > 1``."""
        return self.net((x - self.feature_mean) / self.feature_scale).squeeze(-1)


def average_heads(heads: Sequence[QualityHead]) -> QualityHead:
    """One head whose output is the mean of ``heads``' outputs: a seed ensemble as a single, wider network.

    The hidden layers are set side by side and the output layer divided by their number; as ReLU acts per
    unit (and dropout only in training), the result equals the average exactly. Averaging heads fitted from
    different seeds removes most of the run-to-run spread of one head (Lakshminarayanan et al., "Simple and
    scalable predictive uncertainty estimation using deep ensembles", NeurIPS 2017). The heads must share
    their input standardisation (fitted on the same features) and output size.
    """
    if not heads:
        raise ArtlensError("average_heads needs at least one head")
    first = heads[0]
    for h in heads[1:]:
        if not (torch.equal(h.feature_mean, first.feature_mean)
                and torch.equal(h.feature_scale, first.feature_scale) and h.out_dim == first.out_dim):
            raise ArtlensError("average_heads: the heads differ in input standardisation or output size")
    inner = [h.net[0] for h in heads]
    outer = [h.net[-1] for h in heads]
    merged = QualityHead(first.in_dim, sum(layer.out_features for layer in inner), first.net[2].p,
                         first.out_dim)
    with torch.no_grad():
        merged.feature_mean.copy_(first.feature_mean)
        merged.feature_scale.copy_(first.feature_scale)
        merged.net[0].weight.copy_(torch.cat([layer.weight for layer in inner]))
        merged.net[0].bias.copy_(torch.cat([layer.bias for layer in inner]))
        merged.net[-1].weight.copy_(torch.cat([layer.weight for layer in outer], dim=1) / len(heads))
        merged.net[-1].bias.copy_(torch.stack([layer.bias for layer in outer]).mean(dim=0))
    return merged.eval()


def _new_head(in_dim: int, hidden: int, dropout: float, seed: int = 0, out_dim: int = 1) -> QualityHead:
    with seeded(seed):
        return QualityHead(in_dim, hidden, dropout, out_dim)


def known_descriptors(descriptors: torch.Tensor, descriptor_head: QualityHead) -> torch.Tensor:
    """``descriptors`` with undefined entries (a flat image has no local structure to fit) replaced by the
    descriptor head's training mean, as the head reads them."""
    return torch.where(torch.isfinite(descriptors), descriptors, descriptor_head.feature_mean)


def fuse_heads(raw: torch.Tensor, descriptors: torch.Tensor | None, config: QualityModelConfig,
               descriptor_head: QualityHead | None) -> torch.Tensor:
    """The model's raw score: the CNN head's output ``raw``, fused with the descriptor head's as
    ``config.fusion`` says when the model has one (computed in ``raw``'s dtype).

    Undefined descriptors read as the training mean (:func:`known_descriptors`). Used by
    :meth:`QualityModel.raw_scores` and by the exported ONNX graph (:mod:`artlens.quality.export`).
    """
    if descriptor_head is None:
        return raw
    desc = descriptor_head(known_descriptors(descriptors, descriptor_head)).to(raw.dtype)
    cnn_mean, cnn_std, desc_mean, desc_std, weight = config.fusion
    return (raw - cnn_mean) / cnn_std + weight * (desc - desc_mean) / desc_std


def calibrated(raw: torch.Tensor, calibration: Sequence[float]) -> torch.Tensor:
    """``100 * sigmoid(a * raw + b)`` with ``(a, b) = calibration`` (the logit clipped to +-60)."""
    a, b = calibration
    return 100.0 * torch.sigmoid(torch.clamp(a * raw + b, -60.0, 60.0))


def quality_from_raw(raw: torch.Tensor, config: QualityModelConfig) -> torch.Tensor:
    """Quality 0-100 from raw outputs: calibrated (score task), or the expected position of the class on the
    worst-to-best scale of ``config.classes`` (class task)."""
    if config.task == "classes":
        k = len(config.classes)
        positions = torch.arange(k, dtype=raw.dtype) / (k - 1)
        return 100.0 * (torch.softmax(raw, dim=1) * positions).sum(dim=1)
    return calibrated(raw, config.calibration)


# ------------------------------------------------------------------------------------------------------------
# The model
# ------------------------------------------------------------------------------------------------------------

def _compact(tensor: torch.Tensor) -> torch.Tensor:
    """A backbone tensor to store: float16 when that holds it exactly (the recipe's fine-tuning rounds to
    it, :mod:`artlens.quality.finetune`), else float32. :meth:`QualityModel.load` converts back."""
    value = tensor.detach().to("cpu", torch.float32).contiguous()
    half = value.half()
    return half if torch.equal(half.float(), value) else value


class QualityModel:
    """Frozen backbone + trained head, scoring RGB images 0-100 (higher is better).

    Parameters
    ----------
    config
        The model's configuration.
    head
        A trained head whose input length is ``config.embed_dim``; a freshly initialised one when None.
    backbone
        The feature extractor; ``get_backbone(config.backbone, device=device)`` when None.
    device
        Passed to :func:`artlens.backbones.get_backbone` when ``backbone`` is None.
    descriptor_head
        The trained head over :mod:`artlens.quality.descriptors` (required when ``config.descriptors``).

    Attributes
    ----------
    backbone_keys
        Keys of ``backbone.trunk.state_dict()`` that were fine-tuned; :meth:`save` stores them (prefixed
        ``backbone.``) beside the head. Empty for a frozen backbone.
    stage_maps
        The :class:`~artlens.backbones.StageMaps` of ``config.stages`` over the backbone's trunk, or None
        (the last convolution alone).
    """

    def __init__(self, config: QualityModelConfig | None = None, head: QualityHead | None = None,
                 backbone: Backbone | None = None, *, device: str | None = None,
                 descriptor_head: QualityHead | None = None) -> None:
        config = config or QualityModelConfig()
        self.backbone = backbone if backbone is not None else get_backbone(config.backbone, device=device)
        self.stage_maps = StageMaps(self.backbone.trunk, config.stages) if config.stages else None
        dim = (sum(self.stage_maps.channels) if self.stage_maps is not None
               else int(self.backbone.spec.feature_dim))
        if config.feature_dim == 0:
            config = replace(config, feature_dim=dim)
        elif config.feature_dim != dim:
            raise ConfigError(f"config expects {config.feature_dim} backbone channels but "
                              f"{self.backbone.spec.name!r} gives {dim}"
                              + (f" at stages {list(config.stages)}" if config.stages else ""))
        self.config = config
        if head is None:
            head = _new_head(config.embed_dim, config.hidden, config.dropout, out_dim=config.n_outputs)
        if head.in_dim != config.embed_dim:
            raise ConfigError(f"head takes {head.in_dim} features but the config pools {config.embed_dim}")
        if head.out_dim != config.n_outputs:
            raise ConfigError(f"head gives {head.out_dim} outputs but the config's task needs "
                              f"{config.n_outputs}")
        if bool(config.descriptors) != (descriptor_head is not None):
            raise ConfigError("a descriptor head goes with config.descriptors, and only with them")
        if descriptor_head is not None and (descriptor_head.in_dim != len(config.descriptors)
                                            or descriptor_head.out_dim != 1):
            raise ConfigError(f"descriptor head takes {descriptor_head.in_dim} inputs, the config names "
                              f"{len(config.descriptors)}")
        self.descriptor_head = descriptor_head.eval() if descriptor_head is not None else None
        self.backbone_keys: tuple[str, ...] = ()
        self._onnx = None  # an ONNX Runtime copy of the trunk, see use_onnx()
        self.head = head.eval().to(self.backbone.device)
        self._scale, self._offset = normaliser(self.backbone.spec.mean, self.backbone.spec.std)

    def __repr__(self) -> str:
        c = self.config
        stages = f", stages={c.stages}" if c.stages else ""
        return f"QualityModel(backbone={c.backbone!r}, sizes={c.sizes}, pooling={c.pooling}{stages})"

    # -- persistence
    def save(self, directory: str | Path) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (the head, and any fine-tuned backbone tensors
        under ``backbone.``) into ``directory``; returns it. A ``model.onnx`` exported from an earlier
        model in the same folder is removed (export again with ``artlens export DIR --onnx``)."""
        from safetensors.torch import save_file

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / ONNX_FILE).unlink(missing_ok=True)
        text = json.dumps(replace(self.config, onnx={}).to_dict(), indent=2, sort_keys=True) + "\n"
        (out / CONFIG_FILE).write_text(text, encoding="utf-8")
        state = {k: v.detach().to("cpu", torch.float32).contiguous()
                 for k, v in self.head.state_dict().items()}
        if self.descriptor_head is not None:
            state.update({DESCRIPTOR_PREFIX + k: v.detach().to("cpu", torch.float32).contiguous()
                          for k, v in self.descriptor_head.state_dict().items()})
        if self.backbone_keys:
            trunk = self.backbone.trunk.state_dict()
            state.update({BACKBONE_PREFIX + k: _compact(trunk[k]) for k in self.backbone_keys})
        save_file(state, str(out / WEIGHTS_FILE), metadata={"schema": SCHEMA})
        return out

    @classmethod
    def load(cls, directory: str | Path, *, backbone: Backbone | None = None,
             device: str | None = None) -> QualityModel:
        """Rebuild a model saved by :meth:`save`.

        Raises
        ------
        ConfigError
            ``config.json`` is missing or invalid.
        WeightsError
            ``model.safetensors`` is missing, unreadable or does not fit the config.
        """
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        folder = Path(directory)
        config = load_config(folder)
        try:
            state = load_file(str(folder / WEIGHTS_FILE))
        except (OSError, SafetensorError) as exc:
            raise WeightsError(f"{folder / WEIGHTS_FILE}: cannot read quality head: {exc}") from exc
        tuned = {k[len(BACKBONE_PREFIX):]: state.pop(k) for k in list(state) if k.startswith(BACKBONE_PREFIX)}
        described = {k[len(DESCRIPTOR_PREFIX):]: state.pop(k) for k in list(state)
                     if k.startswith(DESCRIPTOR_PREFIX)}
        if described and not config.descriptors:
            raise WeightsError(f"{folder / WEIGHTS_FILE} has a descriptor head that its config does not "
                               "declare (no 'descriptors' in config.json)")
        head = QualityHead(config.embed_dim, config.hidden, config.dropout, config.n_outputs)
        descriptor_head = None
        try:
            head.load_state_dict(state, strict=True)
            if config.descriptors:
                width = described["net.0.weight"].shape[0] if "net.0.weight" in described else config.hidden
                descriptor_head = QualityHead(len(config.descriptors), width, config.dropout)
                descriptor_head.load_state_dict(described, strict=True)
        except RuntimeError as exc:
            first = " ".join(str(exc).strip().splitlines()[:2])
            raise WeightsError(f"{folder / WEIGHTS_FILE} does not fit its config: {first}") from exc
        if tuned:
            import copy

            base = backbone if backbone is not None else get_backbone(config.backbone, device=device)
            backbone = copy.deepcopy(base)  # the shared, cached backbone stays as it was
            current = backbone.trunk.state_dict()
            bad = [k for k, v in tuned.items() if k not in current or current[k].shape != v.shape]
            if bad:
                raise WeightsError(f"{folder / WEIGHTS_FILE}: fine-tuned backbone tensors do not fit "
                                   f"{config.backbone!r}: {', '.join(bad[:3])}")
            with torch.no_grad():
                for k, v in tuned.items():
                    current[k].copy_(v.to(current[k].dtype))
        model = cls(config, head, backbone, device=device, descriptor_head=descriptor_head)
        model.backbone_keys = tuple(sorted(tuned))
        return model

    # -- features
    def _prepare(self, rgb: np.ndarray, size: int) -> tuple[np.ndarray, tuple[int, int]]:
        """:func:`prepare_image` with this model's backbone normalisation."""
        return prepare_image(rgb, size, self._scale, self._offset)

    def embed(self, rgbs: Sequence[np.ndarray] | np.ndarray, batch_size: int | None = None) -> torch.Tensor:
        """Pooled multi-scale features of each image.

        Parameters
        ----------
        rgbs
            RGB images (H, W, 3) uint8 of any sizes (grey and RGBA are accepted), or an (N, H, W, 3) array.
        batch_size
            Images per forward pass; images are batched only with others of the same padded shape.
            Default: 1 on the CPU (batches of large inputs run slower there), 16 on an accelerator.

        Returns
        -------
        torch.Tensor
            (N, config.embed_dim) float32 on the CPU.
        """
        if batch_size is None:
            batch_size = 1 if self.backbone.device.type == "cpu" else 16
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        with torch.inference_mode():
            return self._pooled(rgbs, batch_size).cpu()

    def _pooled(self, rgbs: Sequence[np.ndarray] | np.ndarray, batch_size: int) -> torch.Tensor:
        """:meth:`embed` under the caller's autograd mode (fine-tuning backpropagates through it)."""
        from artlens.backbones import _as_rgb_uint8

        images = [_as_rgb_uint8(im) for im in rgbs]
        c = self.config
        per_scale = c.feature_dim * len(c.pooling)
        # on the backbone's device: fine-tuning on CUDA backpropagates through it without a round trip
        out = torch.zeros((len(images), c.embed_dim), dtype=torch.float32, device=self.backbone.device)
        for s, size in enumerate(c.sizes):
            prepared = [self._prepare(im, size) for im in images]
            groups: dict[tuple[int, ...], list[int]] = {}
            for i, (arr, cells) in enumerate(prepared):
                groups.setdefault((*arr.shape, *cells), []).append(i)
            for key, idx in groups.items():
                rows, cols = key[-2:]
                for start in range(0, len(idx), batch_size):
                    chunk = idx[start:start + batch_size]
                    x = torch.from_numpy(np.stack([prepared[i][0] for i in chunk]))
                    fast = self._onnx is not None and not torch.is_grad_enabled()
                    maps = self._onnx(x) if fast else self.trunk_maps(x)
                    if self.stage_maps is None:
                        maps = (maps[0][:, :, :rows, :cols],)
                    pooled = torch.cat([_pool(m.float(), p) for m in maps for p in c.pooling],
                                       dim=1).to(out.device)
                    out[chunk, s * per_scale:(s + 1) * per_scale] = pooled
        return out

    def trunk_maps(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The maps this model pools for a preprocessed batch (N, 3, H, W): one per stage, or the last
        convolution's alone. Runs under the caller's autograd mode."""
        if self.stage_maps is None:
            return (self.backbone.feature_maps(x),)
        return self.stage_maps(x.to(self.backbone.device, memory_format=torch.channels_last))

    def use_onnx(self, enabled: bool = True) -> bool:
        """Run the trunk with ONNX Runtime (CPU only, checked against PyTorch); returns whether it does.

        The pooled features agree with PyTorch's to about 1e-5; see :mod:`artlens.quality.onnx_trunk`.
        """
        from artlens.quality.onnx_trunk import onnx_trunk

        self._onnx = onnx_trunk(self.backbone, self.stage_maps) if enabled else None
        return self._onnx is not None

    # -- scores
    def raw_scores(self, features: torch.Tensor | np.ndarray, descriptors: np.ndarray | None = None
                   ) -> np.ndarray:
        """The head's raw outputs for pooled features from :meth:`embed`: (N,), or (N, K) class logits.

        A model with a descriptor head also needs ``descriptors`` (:func:`artlens.quality.descriptors.
        describe` of the same images); the two heads' outputs are fused as ``config.fusion`` says.
        """
        x = features if isinstance(features, torch.Tensor) else torch.as_tensor(
            np.asarray(features, np.float32))
        if x.ndim != 2 or x.shape[1] != self.config.embed_dim:
            raise ArtlensError(f"expected features (N, {self.config.embed_dim}), got {tuple(x.shape)}")
        d = None
        if self.descriptor_head is not None:
            d = np.asarray(descriptors, np.float32) if descriptors is not None else None
            if d is None or d.shape != (x.shape[0], len(self.config.descriptors)):
                raise ArtlensError(f"this model also needs descriptors ({x.shape[0]}, "
                                   f"{len(self.config.descriptors)})")
            d = torch.from_numpy(d)
        with torch.inference_mode():
            raw = self.head.eval()(x.to(self.backbone.device, torch.float32)).double().cpu()
            return fuse_heads(raw, d, self.config, self.descriptor_head).numpy()

    def describe(self, rgbs: Sequence[np.ndarray] | np.ndarray) -> np.ndarray | None:
        """The NSS descriptors this model reads (None for a CNN-only model)."""
        if self.descriptor_head is None:
            return None
        from artlens.quality.descriptors import describe

        return describe(list(rgbs), self.config.descriptors)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Map raw scores to 0-100 with the config's ``(a, b)``."""
        return calibrated(torch.as_tensor(np.asarray(raw, np.float64)), self.config.calibration).numpy()

    def scores_from_raw(self, raw: np.ndarray) -> np.ndarray:
        """Quality 0-100 from :meth:`raw_scores`: calibrated (score task) or expected class position."""
        return quality_from_raw(torch.as_tensor(np.asarray(raw, np.float64)), self.config).numpy()

    def score(self, rgbs: Sequence[np.ndarray] | np.ndarray, batch_size: int | None = None, *,
              descriptors: np.ndarray | None = None) -> np.ndarray:
        """Quality 0-100 (higher is better) of each image, float64 (N,).

        ``descriptors``: the images' :func:`artlens.quality.descriptors.describe`, when already computed
        (models with a descriptor head compute them otherwise).

        For a class model: ``100 * sum_i p_i * i / (K - 1)``, the expected position of the image's class
        on the worst-to-best scale of ``config.classes``.
        """
        if descriptors is None:
            descriptors = self.describe(rgbs)
        return self.scores_from_raw(self.raw_scores(self.embed(rgbs, batch_size=batch_size), descriptors))

    def predict_proba(self, rgbs: Sequence[np.ndarray] | np.ndarray,
                      batch_size: int | None = None) -> np.ndarray:
        """Class probabilities (N, K) float64, columns in ``config.classes`` order (class models only)."""
        if self.config.task != "classes":
            raise ArtlensError("predict_proba needs a class model (task='classes'); this one gives scores")
        return softmax(self.raw_scores(self.embed(rgbs, batch_size=batch_size)))


# ------------------------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------------------------

def train_head(features: torch.Tensor | np.ndarray, targets: np.ndarray | Sequence[float],
               pairs: np.ndarray | Sequence[tuple[int, int]], *, epochs: int = 150, lr: float = 1e-3,
               rank_weight: float = 1.0, margin: float = 0.05, weight_decay: float = 1e-3,
               hidden: int = 128, dropout: float = 0.25, batch_size: int = 128, seed: int = 0) -> QualityHead:
    """Fit a :class:`QualityHead` on cached features.

    The loss is ``MSE(head(x), target) + rank_weight * mean(max(0, margin - (s_i - s_j)))`` over pairs
    ``(i, j)`` in which image ``i`` is known to be better than image ``j`` (RankIQA's margin ranking loss).

    Parameters
    ----------
    features
        (N, D) pooled features (:meth:`QualityModel.embed`).
    targets
        (N,) regression targets, e.g. :func:`level_target` of each image's distortion level.
    pairs
        (P, 2) indices ``(better, worse)``; may be empty.
    epochs
        Passes over the images (each step also draws ``batch_size`` pairs).
    lr, weight_decay
        AdamW settings.
    rank_weight, margin
        Weight and margin of the ranking term.
    hidden, dropout
        Head shape; store the same values in :class:`QualityModelConfig`.
    batch_size
        Images (and pairs) per step.
    seed
        Seeds initialisation and batch order; the result is deterministic on the CPU.

    Returns
    -------
    QualityHead
        In eval mode, on the CPU, with the feature standardisation of ``features`` built in.

    References
    ----------
    X. Liu, J. van de Weijer and A. D. Bagdanov, "RankIQA: Learning from Rankings for No-reference Image
    Quality Assessment", ICCV 2017.
    """
    x = torch.as_tensor(np.asarray(features, np.float32) if not isinstance(features, torch.Tensor)
                        else features.detach().float().cpu())
    y = torch.as_tensor(np.asarray(targets, np.float32))
    p = torch.as_tensor(np.asarray(pairs, np.int64).reshape(-1, 2))
    n = x.shape[0]
    if x.ndim != 2 or n < 2 or y.shape != (n,):
        raise ArtlensError(f"need features (N>=2, D) and targets (N,), "
                           f"got {tuple(x.shape)} and {tuple(y.shape)}")
    if p.numel() and (int(p.min()) < 0 or int(p.max()) >= n):
        raise ArtlensError(f"pair indices must lie in [0, {n})")
    if epochs < 1 or batch_size < 1:
        raise ArtlensError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")

    head = _new_head(x.shape[1], hidden, dropout, seed)
    mean = x.mean(dim=0)
    std = x.std(dim=0, correction=0)
    head.feature_mean.copy_(mean)
    head.feature_scale.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    steps_per_epoch = max(1, -(-n // batch_size))
    head.train()
    with seeded(seed):  # dropout masks
        for _ in range(epochs):
            order = torch.randperm(n, generator=gen)
            for k in range(steps_per_epoch):
                idx = order[k * batch_size:(k + 1) * batch_size]
                loss = nn.functional.mse_loss(head(x[idx]), y[idx])
                if rank_weight > 0 and p.shape[0]:
                    sel = p[torch.randint(p.shape[0], (min(batch_size, p.shape[0]),), generator=gen)]
                    both = head(x[sel.reshape(-1)]).reshape(-1, 2)
                    loss = loss + rank_weight * torch.relu(margin - (both[:, 0] - both[:, 1])).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    return head.eval()


def level_target(level: int) -> float:
    """Regression target of a distortion level: 1.0 for a clean image (level 0), ``1 - level / 6`` else."""
    return 1.0 - level / 6.0


def _load_rgb(item: str | Path | np.ndarray) -> np.ndarray:
    from artlens.backbones import _as_rgb_uint8

    if isinstance(item, np.ndarray):
        return _as_rgb_uint8(item)
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(item)
    try:
        with Image.open(path) as im:
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise ImageLoadError(path, str(exc)) from exc


def _training_crops(pristine: Sequence[str | Path | np.ndarray], *, per_image: int, rng: np.random.Generator,
                    size: int, per_crop: int, distortions: Sequence[str] | None, max_size: int | None = None,
                    native_share: float | None = None
                    ) -> Iterator[tuple[list[np.ndarray], list[float], list[tuple[int, int]]]]:
    """Per pristine crop: its images (clean first), targets and local ranking pairs."""
    names = list(distortions) if distortions is not None else list(DISTORTIONS)
    unknown = [n for n in names if n not in DISTORTIONS]
    if unknown or not names:
        raise ArtlensError(f"unknown distortions {unknown}; available: {', '.join(DISTORTIONS)}")
    if per_image < 1 or per_crop < 1 or size < _STRIDE:
        raise ArtlensError(f"need per_image >= 1, per_crop >= 1 and size >= {_STRIDE}")
    if max_size is not None and max_size < size:
        raise ArtlensError(f"max_size ({max_size}) must be at least size ({size})")
    if native_share is not None and not 0.0 <= native_share <= 1.0:
        raise ArtlensError(f"native_share must lie in [0, 1], got {native_share}")
    queue: list[str] = []
    for item in pristine:
        full = _load_rgb(item)
        for _ in range(per_image):
            img = full
            # drawn only when asked, so sets made without max_size stay as they were
            crop_side = size if max_size is None else int(rng.integers(size, max_size + 1))
            # a random downscale first: photos are judged after resizing, and it removes sensor noise;
            # with native_share, that share of the crops keeps the file's own pixels (what a 100 % zoom shows,
            # artlens.quality.native), drawn only when asked so that sets made without it stay as they were
            longest = int(rng.integers(crop_side, 2 * crop_side + 1))
            if native_share is not None and rng.random() < native_share:
                longest = max(img.shape[:2])
            scale = longest / max(img.shape[:2])
            if scale < 1.0:
                new_size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))
                img = cv2.resize(img, new_size, interpolation=cv2.INTER_AREA)
            side = min(crop_side, *img.shape[:2])
            top = int(rng.integers(0, img.shape[0] - side + 1))
            left = int(rng.integers(0, img.shape[1] - side + 1))
            crop = np.ascontiguousarray(img[top:top + side, left:left + side])
            images, targets, pairs = [crop], [level_target(0)], []
            chosen = []
            for _ in range(min(per_crop, len(names))):  # cycle through all distortions evenly
                if not queue:
                    queue = [names[i] for i in rng.permutation(len(names))]
                pick = next((q for q in queue if q not in chosen), queue[0])
                queue.remove(pick)
                chosen.append(pick)
            for name in chosen:
                seed = int(rng.integers(2**63))
                first = len(images)
                for level in LEVELS:
                    images.append(DISTORTIONS[name](crop, level, np.random.default_rng(seed)))
                    targets.append(level_target(level))
                    pairs.append((0, len(images) - 1))
                for a in range(len(LEVELS)):
                    for b in range(a + 1, len(LEVELS)):
                        pairs.append((first + a, first + b))
            yield images, targets, pairs


def build_training_set(pristine: Sequence[str | Path | np.ndarray], *, per_image: int = 2,
                       rng: np.random.Generator, size: int = 448, per_crop: int = 3,
                       distortions: Sequence[str] | None = None, max_size: int | None = None,
                       native_share: float | None = None) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Clean crops of pristine photos and graded distortions of them, with targets and ranking pairs.

    Parameters
    ----------
    pristine
        Image files (or RGB arrays) of good quality.
    per_image
        Random crops per pristine image. Each photo is first downscaled so its longest side is a random
        length in ``[size, 2 * size]`` (never upscaled), then a square of side ``min(size, h, w)`` is cut.
    rng
        Source of every random choice; the set is deterministic given its state.
    size
        Crop side in pixels.
    max_size
        When given, each crop's side is drawn uniformly from ``[size, max_size]`` (and the downscale range
        follows it). The model sees every image at most ``sizes[0]`` wide while the distortions are made at
        the crop's own resolution, as on a large upload: a defect of a few pixels then shrinks on the way
        in, and the head learns how much of it is still visible.
    native_share
        When given, this share of the crops is cut from the photo at its own resolution, without the random
        downscale: the pixels a 100 % zoom shows, which :mod:`artlens.quality.native` scores on large images.
    per_crop
        Different distortions per crop, each applied at all five levels; distortions are used in turn so
        each is used about equally often.
    distortions
        Names to draw from (default: all of :data:`artlens.quality.distortions.DISTORTIONS`).

    Returns
    -------
    images : list of numpy.ndarray
        Per crop: the clean crop, then ``per_crop x 5`` distorted versions.
    level_targets : numpy.ndarray
        (N,) float32: 1.0 for clean, ``1 - level / 6`` for distorted.
    pairs : numpy.ndarray
        (P, 2) int64 ``(better, worse)``: clean over each of its distorted versions, and within one
        distortion of one crop each lower level over each higher level.

    Raises
    ------
    ImageLoadError
        A pristine file cannot be read.
    """
    images: list[np.ndarray] = []
    targets: list[float] = []
    pairs: list[tuple[int, int]] = []
    for crop_images, crop_targets, crop_pairs in _training_crops(
            pristine, per_image=per_image, rng=rng, size=size, per_crop=per_crop, distortions=distortions,
            max_size=max_size, native_share=native_share):
        base = len(images)
        images.extend(crop_images)
        targets.extend(crop_targets)
        pairs.extend((base + a, base + b) for a, b in crop_pairs)
    return images, np.asarray(targets, np.float32), np.asarray(pairs, np.int64).reshape(-1, 2)


def embed_training_set(model: QualityModel, pristine: Sequence[str | Path], *, seed: int = 0,
                       per_image: int = 2, size: int = 448, per_crop: int = 3,
                       distortions: Sequence[str] | None = None, cache: str | Path | None = None,
                       batch_size: int | None = None, max_size: int | None = None,
                       native_share: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`build_training_set` followed by :meth:`QualityModel.embed`, one crop at a time.

    Only one crop's images are held in memory. With ``cache``, the features are stored in that ``.npz``
    file together with a key of everything that determines them (embedding config, files with their size
    and modification time, seed and set parameters, a digest of the code that makes the images) and
    reused when the key matches.

    Returns
    -------
    tuple
        ``(features (N, D) float32, level_targets (N,), pairs (P, 2))``.
    """
    files = [Path(p) for p in pristine]
    embedding = model.config.embedding_settings()

    def compute() -> dict[str, np.ndarray]:
        feats: list[np.ndarray] = []
        targets: list[float] = []
        pairs: list[tuple[int, int]] = []
        count = 0
        for crop_images, crop_targets, crop_pairs in _training_crops(
                files, per_image=per_image, rng=np.random.default_rng(seed), size=size, per_crop=per_crop,
                distortions=distortions, max_size=max_size, native_share=native_share):
            feats.append(model.embed(crop_images, batch_size=batch_size).numpy())
            targets.extend(crop_targets)
            pairs.extend((count + a, count + b) for a, b in crop_pairs)
            count += len(crop_images)
        empty = np.zeros((0, model.config.embed_dim), np.float32)
        return {"features": np.concatenate(feats) if feats else empty,
                "targets": np.asarray(targets, np.float32),
                "pairs": np.asarray(pairs, np.int64).reshape(-1, 2)}

    data = _cached(cache, _set_key(files, seed, per_image, size, per_crop, distortions, max_size,
                                   native_share, config=embedding), compute)
    return data["features"], data["targets"], data["pairs"]


def describe_training_set(pristine: Sequence[str | Path], *, seed: int = 0, per_image: int = 2,
                          size: int = 448, per_crop: int = 3, distortions: Sequence[str] | None = None,
                          cache: str | Path | None = None, max_size: int | None = None,
                          native_share: float | None = None) -> np.ndarray:
    """The NSS descriptors (:mod:`artlens.quality.descriptors`) of the images of :func:`embed_training_set`.

    Same arguments, same images in the same order (the set is rebuilt from ``seed``); cached in its own
    ``.npz`` file when ``cache`` is given. Returns (N, len(DESCRIPTOR_NAMES)) float32.
    """
    from artlens.quality.descriptors import DESCRIPTOR_NAMES, describe

    files = [Path(p) for p in pristine]

    def compute() -> dict[str, np.ndarray]:
        parts = [describe(crop_images) for crop_images, _, _ in _training_crops(
            files, per_image=per_image, rng=np.random.default_rng(seed), size=size, per_crop=per_crop,
            distortions=distortions, max_size=max_size, native_share=native_share)]
        return {"descriptors": np.concatenate(parts) if parts
                else np.zeros((0, len(DESCRIPTOR_NAMES)), np.float32)}

    key = _set_key(files, seed, per_image, size, per_crop, distortions, max_size, native_share,
                   descriptors=list(DESCRIPTOR_NAMES), descriptor_code=_descriptor_code_digest())
    return _cached(cache, key, compute)["descriptors"]


def _set_key(files: Sequence[Path], seed: int, per_image: int, size: int, per_crop: int,
             distortions: Sequence[str] | None, max_size: int | None, native_share: float | None = None,
             **extra: object) -> str:
    """A hash of everything that determines a training set's arrays (files by size and modification time)."""
    key_data = {
        **extra,
        **({} if max_size is None else {"max_size": max_size}),  # keys made before it existed still match
        **({} if native_share is None else {"native_share": native_share}),
        "code": _set_code_digest(),
        "files": [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files],
        "seed": seed, "per_image": per_image, "size": size, "per_crop": per_crop,
        "distortions": list(distortions) if distortions is not None else list(DISTORTIONS),
    }
    return hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest()


def _source_digest(*objects: object) -> str:
    """SHA-256 of the source of modules or functions (of the release, when installed without sources)."""
    try:
        parts = [inspect.getsource(obj) for obj in objects]
    except OSError:
        from artlens import __version__

        parts = [__version__]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@functools.cache
def _set_code_digest() -> str:
    """Digest of the code that makes a training set's images (the distortions, the cropping, the targets),
    in the key of every cache of a training set, so that one made by other code is never reused."""
    from artlens.quality import distortions

    return _source_digest(distortions, _training_crops, level_target)


@functools.cache
def _descriptor_code_digest() -> str:
    """Digest of the code that computes the NSS descriptors, in the key of every cache of descriptors."""
    from artlens.quality import _nss, brisque, descriptors, metrics, niqe

    return _source_digest(descriptors, brisque, niqe, _nss, metrics)


def _cached(cache: str | Path | None, key: str, compute: Callable[[], dict[str, np.ndarray]]
            ) -> dict[str, np.ndarray]:
    """``compute()``'s arrays, read from the ``.npz`` file ``cache`` when its stored key matches ``key``."""
    path = Path(cache) if cache is not None else None
    if path is not None and path.is_file():
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) == key:
                return {k: data[k] for k in data.files if k != "key"}
    arrays = compute()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, key=np.asarray(key), **arrays)
        tmp.replace(path)
    return arrays
