"""The configuration of a learned quality model (``config.json``): what the backbone sees, how its maps
are pooled, the head, the task and the calibration."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from artlens.errors import ConfigError
from artlens.iqa.files import CONFIG_FILE
from artlens.models.backbones import MULTI_LEVEL_STAGES, check_stages

__all__ = ["BACKBONE_PREFIX", "DESCRIPTOR_PREFIX", "EMBEDDING_KEYS", "MULTI_LEVEL_POOLING", "SCHEMA",
           "STRIDE", "QualityModelConfig", "config_fingerprint", "is_quality_model", "load_config",
           "multi_level"]

SCHEMA = "artlens.quality-model/1"
#: The config keys that determine :meth:`QualityModel.embed`'s features (feature caches are keyed by them).
EMBEDDING_KEYS = frozenset({"backbone", "sizes", "pooling", "stages"})
#: Statistics pooled per channel of each multi-level stage: mean and spread.
MULTI_LEVEL_POOLING: tuple[str, ...] = ("mean", "std")
#: Output stride of every backbone trunk: one feature cell per 32x32 pixels.
STRIDE = 32
_POOLS = ("mean", "std", "max")
_TASKS = ("score", "classes")
BACKBONE_PREFIX = "backbone."
DESCRIPTOR_PREFIX = "descriptor_head."



# ------------------------------------------------------------------------------------------------------------
# Configuration
# ------------------------------------------------------------------------------------------------------------

def multi_level(backbone: str) -> dict[str, tuple]:
    """``stages`` and ``pooling`` of ``backbone``'s multi-level embedding (mean and spread of the maps of
    its :data:`~artlens.models.backbones.MULTI_LEVEL_STAGES` blocks; Hosu et al., CVPR 2019), or ``{}`` for a
    backbone without one, which then pools its last convolution (:class:`QualityModelConfig` defaults)."""
    stages = MULTI_LEVEL_STAGES.get(backbone)
    return {"stages": stages, "pooling": MULTI_LEVEL_POOLING} if stages else {}


@dataclass(frozen=True)
class QualityModelConfig:
    """Everything needed to rebuild a :class:`QualityModel` apart from the head's weights.

    Attributes
    ----------
    backbone
        Name passed to :func:`artlens.models.backbones.get_backbone`.
    sizes
        Longest image side (px) at each scale, largest first; images are only ever downscaled.
    pooling
        Spatial statistics per channel, per scale: ``mean``, ``std``, ``max`` or ``qNN`` (the NN-th
        percentile over the cells, e.g. ``q90``).
    stages
        Blocks of the trunk (indices into :func:`artlens.models.backbones.trunk_blocks`) whose output maps are
        pooled, shallow to deep (multi-level features, :class:`artlens.models.backbones.StageMaps`); empty:
        the
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
        names of :data:`artlens.iqa.descriptors.DESCRIPTOR_NAMES`), or empty for a CNN-only model
        (``task="score"`` only).
    fusion
        With descriptors: ``(cnn_mean, cnn_std, desc_mean, desc_std, weight)``; the raw score is
        ``(cnn - cnn_mean) / cnn_std + weight * (desc - desc_mean) / desc_std``, each head's output
        standardised on the training set (late fusion).
    onnx
        The record of an ONNX export of the whole model (:mod:`artlens.iqa.export`), or empty;
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
        if not self.sizes or any(s < STRIDE for s in self.sizes):
            raise ConfigError(f"sizes must be one or more sides of at least {STRIDE} px, got {self.sizes}")
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
            from artlens.iqa.descriptors import descriptor_columns

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


def config_fingerprint(config: QualityModelConfig) -> str:
    """SHA-256 of everything in a config that shapes the exported graph (all but ``notes`` and ``onnx``)."""
    data = {k: v for k, v in config.to_dict().items() if k not in {"notes", "onnx"}}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def is_quality_model(folder: str | Path) -> bool:
    """Whether ``folder/config.json`` declares a quality model (:data:`SCHEMA`)."""
    try:
        data = json.loads((Path(folder) / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("schema") == SCHEMA
