"""A classifier model folder: a pretrained trunk, one linear head per label column, calibrated probabilities.

The network is the backbone's convolutional trunk, global average pooling and one linear layer per head
(:class:`ClassifierNet`). A model folder holds

* ``config.json``: schema ``artlens.classifier/1``; ``mode`` (``linear``: the trunk is the pinned pretrained
  backbone, untouched; ``finetune``: its weights are in the folder); the backbone name and feature size; the
  preprocessing the trunk expects; the heads in order (name, classes, temperature); the training settings,
  validation metrics and data summary;
* ``model.safetensors``: ``heads.<i>.weight`` (K, D) and ``heads.<i>.bias`` (K,) for head ``i``, plus the
  whole trunk (``trunk.*``) in ``finetune`` mode;
* optionally ``model.onnx``, written by :func:`artlens.classify.export.export_onnx`: the same network,
  preprocessed image in, one logits output per head. :func:`load_classifier` runs it with ONNX Runtime on a
  CPU when its recorded fingerprint matches ``model.safetensors``.

Probabilities are ``softmax(logits / T)`` with one temperature ``T`` per head fitted on held-out data
(temperature scaling, Guo et al., ICML 2017).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from artlens.classify.framing import check_framing, frame_image
from artlens.classify.pooling import NORMS, POOLINGS, normalise_pooled, pool_features, pooled_dim, tap_modules
from artlens.errors import ArtlensError, ConfigError
from artlens.evaluation import softmax
from artlens.files import sha256_file
from artlens.imageio import as_rgb_uint8
from artlens.models.backbones import Backbone, get_backbone

__all__ = [
    "CONFIG_FILE",
    "MODES",
    "ONNX_FILE",
    "SCHEMA",
    "WEIGHTS_FILE",
    "Classifier",
    "ClassifierNet",
    "feature_settings_of",
    "load_classifier",
    "preprocessing_of",
    "save_model",
]

SCHEMA = "artlens.classifier/1"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
ONNX_FILE = "model.onnx"
MODES = ("linear", "finetune")


def preprocessing_of(backbone: Backbone) -> dict:
    """The input transform a backbone's weights expect, as stored in ``config.json``."""
    s = backbone.spec
    return {"resize": int(s.resize), "input_size": int(s.input_size), "mean": [float(v) for v in s.mean],
            "std": [float(v) for v in s.std], "interpolation": "area down, bilinear up",
            "crop": "centre", "channels": "RGB"}


class ClassifierNet(nn.Module):
    """Trunk, pooling (:mod:`artlens.classify.pooling`), feature normalisation and one linear head per label
    column; optionally the mean of the pooled features of the image and its mirror image (flip test-time
    augmentation).

    Parameters
    ----------
    trunk
        Maps a preprocessed batch (N, 3, H, W) to feature maps (N, C, h, w).
    feature_dim
        D, the length of the pooled (and normalised) features the heads read.
    n_classes
        Classes per head, in head order.
    pooling, stages
        ``avg`` (the default, and what models saved before this option were), ``gem`` or ``multi`` with its
        block numbers.
    norm
        ``none``, ``l2`` or ``sqrt`` (:func:`artlens.classify.pooling.normalise_pooled`).
    flip
        Average the pooled features of the image and of its mirror image.
    framing
        How images are framed before the backbone's transform (:mod:`artlens.classify.framing`): applied to
        the RGB images by :meth:`Classifier.preprocess`, before this network; recorded with the features.
    """

    def __init__(self, trunk: nn.Module, feature_dim: int, n_classes: Sequence[int], *, pooling: str = "avg",
                 stages: Sequence[int] = (), norm: str = "none", flip: bool = False,
                 framing: str = "crop") -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        if norm not in NORMS:
            raise ConfigError(f"feature normalisation must be one of {', '.join(NORMS)}, got {norm!r}")
        self.trunk = trunk
        self.pooling, self.stages, self.norm, self.flip = pooling, tuple(int(s) for s in stages), norm, flip
        self.framing = check_framing(framing)
        self._taps = tap_modules(trunk, self.stages) if pooling == "multi" else []
        self.heads = nn.ModuleList(nn.Linear(feature_dim, int(k)) for k in n_classes)

    def pooled(self, x: torch.Tensor, *, flip: bool | None = None) -> torch.Tensor:
        """(N, D) pooled, flip-averaged when ``flip`` (default: the model's setting), normalised features."""
        f = pool_features(self.trunk, x, self.pooling, self._taps)
        if self.flip if flip is None else flip:
            f = 0.5 * (f + pool_features(self.trunk, x.flip(3), self.pooling, self._taps))
        return normalise_pooled(f, self.norm)

    def feature_settings(self) -> dict:
        """What ``config.json`` records under ``features`` (read back by :func:`feature_settings_of`)."""
        return {"pooling": self.pooling, "stages": list(self.stages), "norm": self.norm, "flip": self.flip,
                "framing": self.framing}

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        f = self.pooled(x)
        return tuple(head(f) for head in self.heads)


def feature_settings_of(config: dict) -> dict:
    """The ``features`` entry of a model's config with its defaults (a model saved before it existed pools
    ``avg``; one saved before framing was recorded crops)."""
    given = config.get("features") or {}
    return {"pooling": str(given.get("pooling", "avg")), "stages": [int(s) for s in given.get("stages", [])],
            "norm": str(given.get("norm", "none")), "flip": bool(given.get("flip", False)),
            "framing": str(given.get("framing", "crop"))}


def weights_fingerprint(directory: str | Path) -> str:
    """SHA-256 of a folder's ``model.safetensors`` (binds an ONNX export to the weights it came from)."""
    return sha256_file(Path(directory) / WEIGHTS_FILE)


def save_model(out_dir: str | Path, config: dict, net: ClassifierNet, *, with_trunk: bool) -> Path:
    """Write ``config.json`` and ``model.safetensors`` (heads, and the trunk when ``with_trunk``).

    A stale ``model.onnx`` from an earlier model in the same folder is removed.
    """
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().cpu().contiguous() for k, v in net.state_dict().items()
             if with_trunk or k.startswith("heads.")}
    tmp = out / (WEIGHTS_FILE + ".tmp")
    save_file(state, str(tmp), metadata={"schema": SCHEMA})
    tmp.replace(out / WEIGHTS_FILE)
    config = dict(config, schema=SCHEMA)
    config.pop("onnx", None)
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (out / ONNX_FILE).unlink(missing_ok=True)
    return out


class Classifier:
    """A loaded model folder: calibrated predictions per head, from RGB images or pooled features.

    Use :func:`load_classifier` to build one.

    Attributes
    ----------
    config
        The parsed ``config.json``.
    backbone
        The pretrained backbone (its preprocessing; in ``linear`` mode also its trunk).
    net
        The :class:`ClassifierNet` in eval mode on the backbone's device.
    heads
        Head name -> class names, in head order (the first head gives ``label``).
    temperatures
        Head name -> temperature.
    onnx
        The ONNX Runtime session used for images, or None (PyTorch).
    """

    def __init__(self, config: dict, net: ClassifierNet, backbone: Backbone, directory: Path | None = None,
                 onnx_session: object | None = None) -> None:
        self.config = config
        self.net = net.eval()
        self.backbone = backbone
        self.directory = directory
        self.heads: dict[str, list[str]] = {h["name"]: list(h["classes"]) for h in config["heads"]}
        self.temperatures: dict[str, float] = {h["name"]: float(h["temperature"]) for h in config["heads"]}
        self.onnx = onnx_session

    def __repr__(self) -> str:
        runtime = "onnxruntime" if self.onnx is not None else "torch"
        return (f"Classifier(mode={self.config.get('mode')!r}, backbone={self.config['backbone']!r}, "
                f"heads={list(self.heads)}, runtime={runtime!r})")

    @property
    def mode(self) -> str:
        return str(self.config.get("mode", "linear"))

    # -- batches
    @property
    def framing(self) -> str:
        """How :meth:`preprocess` frames an image before the centre crop (:mod:`artlens.classify.framing`)."""
        return self.net.framing

    def preprocess(self, rgbs: Sequence[np.ndarray]) -> torch.Tensor:
        """(N, 3, S, S) float32 batch as the trunk expects (framing, resize, centre crop, normalise)."""
        return torch.stack([self.backbone.preprocess(frame_image(as_rgb_uint8(im), self.net.framing))
                            for im in rgbs])

    def logits(self, x: torch.Tensor) -> list[np.ndarray]:
        """Per-head (N, K) logits of a preprocessed batch, with ONNX Runtime when a session is loaded."""
        if self.onnx is not None:
            outputs = self.onnx.run(None, {"image": np.ascontiguousarray(x.numpy(), np.float32)})
            return [np.asarray(o, np.float32) for o in outputs]
        device = next(self.net.parameters()).device
        with torch.inference_mode():
            out = self.net(x.to(device, memory_format=torch.channels_last))
        return [o.float().cpu().numpy() for o in out]

    # -- calibrated outputs
    def probabilities_from_logits(self, logits: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        """Head name -> (N, K) calibrated probabilities ``softmax(logits / T)``."""
        pairs = zip(self.heads, logits, strict=True)
        return {h: softmax(np.asarray(z, np.float64) / self.temperatures[h]) for h, z in pairs}

    def probabilities(self, rgbs: Sequence[np.ndarray], batch_size: int = 32) -> dict[str, np.ndarray]:
        """Head name -> (N, K) calibrated probabilities for RGB images."""
        parts: list[list[np.ndarray]] = []
        for i in range(0, len(rgbs), batch_size):
            parts.append(self.logits(self.preprocess(rgbs[i:i + batch_size])))
        if not parts:
            return {h: np.zeros((0, len(c))) for h, c in self.heads.items()}
        stacked = [np.concatenate([p[j] for p in parts]) for j in range(len(self.heads))]
        return self.probabilities_from_logits(stacked)

    def probabilities_from_features(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """Head name -> (N, K) calibrated probabilities for (N, D) pooled features (the model's pooling, not
        yet normalised)."""
        # on the heads' own device: Module.cpu() would move them for good (a CUDA model then fails)
        device = next(self.net.heads.parameters()).device
        f = torch.as_tensor(np.asarray(features, np.float32)).to(device)
        with torch.inference_mode():
            f = normalise_pooled(f, self.net.norm)
            logits = [head(f).float().cpu().numpy() for head in self.net.heads]
        return self.probabilities_from_logits(logits)

    def describe(self, probs: dict[str, np.ndarray], top_k: int = 3) -> list[dict]:
        """Per image: ``label``, ``score``, ``topk`` of the first head and ``heads`` ({head: {...}})."""
        if top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {top_k}")
        first = next(iter(self.heads))
        n = next(iter(probs.values())).shape[0]
        results = []
        for i in range(n):
            per_head = {}
            for head, classes in self.heads.items():
                p = probs[head][i]
                order = np.argsort(-p, kind="stable")[:top_k]
                per_head[head] = {"label": classes[order[0]], "score": float(p[order[0]]),
                                  "topk": [[classes[j], float(p[j])] for j in order]}
            results.append({**per_head[first], "heads": per_head})
        return results

    def predict(self, rgbs: Sequence[np.ndarray], top_k: int = 3, *, batch_size: int = 32) -> list[dict]:
        """Classify RGB images (H, W, 3) uint8: see :meth:`describe` for the records."""
        if len(rgbs) == 0:
            return []
        return self.describe(self.probabilities(list(rgbs), batch_size), top_k)

    def predict_features(self, features: np.ndarray, top_k: int = 3) -> list[dict]:
        """Like :meth:`predict`, on pooled features (N, D) already computed by the trunk."""
        return self.describe(self.probabilities_from_features(features), top_k)


def _read_config(root: Path) -> dict:
    cfg_path = root / CONFIG_FILE
    for p in (cfg_path, root / WEIGHTS_FILE):
        if not p.is_file():
            raise ConfigError(f"{root}: not a classifier folder ({p.name} missing)")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{cfg_path}: cannot be read as JSON: {exc}") from None
    if not isinstance(config, dict) or config.get("schema") != SCHEMA:
        found = config.get("schema") if isinstance(config, dict) else type(config).__name__
        raise ConfigError(f"{cfg_path}: schema {found!r} is not {SCHEMA!r}")
    name, dim, heads = config.get("backbone"), config.get("feature_dim"), config.get("heads")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{cfg_path}: 'backbone' must be a backbone name")
    if not isinstance(dim, int) or dim < 1:
        raise ConfigError(f"{cfg_path}: 'feature_dim' must be a positive integer")
    if config.setdefault("mode", "linear") not in MODES:
        raise ConfigError(f"{cfg_path}: 'mode' must be one of {', '.join(MODES)}, got {config['mode']!r}")
    if not isinstance(heads, list) or not heads:
        raise ConfigError(f"{cfg_path}: 'heads' must be a non-empty list")
    for h in heads:
        ok = (isinstance(h, dict) and isinstance(h.get("name"), str) and isinstance(h.get("classes"), list)
              and len(h["classes"]) >= 2 and isinstance(h.get("temperature"), (int, float))
              and h["temperature"] > 0)
        if not ok:
            raise ConfigError(f"{cfg_path}: each head needs a name, two or more classes and a positive "
                              f"temperature; got {h!r:.120}")
    return config


def _backbone_for(config: dict, cfg_path: Path, backbone: Backbone | None, device: str | None) -> Backbone:
    name, dim = config["backbone"], config["feature_dim"]
    if backbone is None:
        try:
            backbone = get_backbone(name, device=device)
        except ArtlensError as exc:
            if type(exc) is not ArtlensError:  # ConfigError, WeightsError and the like keep their own type
                raise
            raise ConfigError(f"{cfg_path}: backbone {name!r} cannot be built: {exc}") from None
    elif backbone.spec.name != name:
        raise ConfigError(f"{cfg_path}: trained on backbone {name!r}, given {backbone.spec.name!r}")
    feats = feature_settings_of(config)
    try:
        expected_dim = pooled_dim(backbone.trunk, feats["pooling"], feats["stages"] or None)
    except ConfigError as exc:
        raise ConfigError(f"{cfg_path}: features {feats}: {exc}") from None
    if expected_dim != dim:
        raise ConfigError(f"{cfg_path}: feature_dim {dim} does not match backbone {name!r} with "
                          f"{feats['pooling']} pooling ({expected_dim})")
    stored = config.get("preprocessing")
    if stored is not None:
        expected = preprocessing_of(backbone)
        diff = [k for k in ("resize", "input_size", "mean", "std")
                if not np.allclose(np.asarray(stored.get(k, np.nan), float), np.asarray(expected[k], float))]
        if diff:
            raise ConfigError(f"{cfg_path}: preprocessing {', '.join(diff)} differs from backbone {name!r}'s "
                              "(the model was trained with other inputs)")
    return backbone


def load_classifier(directory: str | Path, *, backbone: Backbone | None = None, device: str | None = None,
                    use_onnx: bool | None = None) -> Classifier:
    """Load a model folder written by ``artlens train classify``.

    Parameters
    ----------
    directory
        Folder with ``config.json`` and ``model.safetensors`` (and maybe ``model.onnx``).
    backbone
        The pretrained backbone to use instead of loading the one named in the config (its name, feature
        size and preprocessing must match).
    device
        Passed to :func:`artlens.models.backbones.get_backbone`.
    use_onnx
        Run images through ``model.onnx`` with ONNX Runtime: None (default) when the file is there, matches
        the weights and the device is a CPU; False never; True requires it.

    Raises
    ------
    ConfigError
        A file is missing or unreadable, the schema is not ``artlens.classifier/1``, or the backbone, feature
        size, preprocessing or tensors do not match the config; with ``use_onnx=True``, no usable ONNX file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    root = Path(directory)
    config = _read_config(root)
    cfg_path, w_path = root / CONFIG_FILE, root / WEIGHTS_FILE
    backbone = _backbone_for(config, cfg_path, backbone, device)
    try:
        tensors = load_file(str(w_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ConfigError(f"{w_path}: cannot be read as safetensors: {exc}") from None
    dim = config["feature_dim"]
    sizes = [len(h["classes"]) for h in config["heads"]]
    for i, (h, k) in enumerate(zip(config["heads"], sizes, strict=True)):
        w, b = tensors.get(f"heads.{i}.weight"), tensors.get(f"heads.{i}.bias")
        if w is None or b is None or tuple(w.shape) != (k, dim) or tuple(b.shape) != (k,):
            raise ConfigError(f"{w_path}: head {h['name']!r} needs tensors heads.{i}.weight ({k}, {dim}) and "
                              f"heads.{i}.bias ({k},)")
    trunk_state = {k[len("trunk."):]: v for k, v in tensors.items() if k.startswith("trunk.")}
    if config["mode"] == "finetune":
        if not trunk_state:
            raise ConfigError(f"{w_path}: a finetune model must hold its trunk (trunk.* tensors)")
        trunk = copy.deepcopy(backbone.trunk)
        try:
            trunk.load_state_dict(trunk_state, strict=True)
        except RuntimeError as exc:
            first = " ".join(str(exc).strip().splitlines()[:2])
            raise ConfigError(f"{w_path}: the trunk tensors do not fit backbone {config['backbone']!r}: "
                              f"{first}") from None
    else:
        trunk = backbone.trunk  # shared, frozen, never modified
    feats = feature_settings_of(config)
    try:
        net = ClassifierNet(trunk, dim, sizes, pooling=feats["pooling"], stages=feats["stages"],
                            norm=feats["norm"], flip=feats["flip"], framing=feats["framing"])
    except ConfigError as exc:
        raise ConfigError(f"{cfg_path}: {exc}") from None
    net.heads.load_state_dict({k[len("heads."):]: v for k, v in tensors.items() if k.startswith("heads.")})
    net = net.eval().to(backbone.device, memory_format=torch.channels_last)
    for p in net.parameters():
        p.requires_grad_(False)
    session = _onnx_session(root, config, backbone, use_onnx)
    return Classifier(config, net, backbone, root, session)


def _onnx_session(root: Path, config: dict, backbone: Backbone, use_onnx: bool | None) -> object | None:
    path = root / ONNX_FILE
    if use_onnx is False or (use_onnx is None and (not path.is_file() or backbone.device.type != "cpu")):
        return None
    record = config.get("onnx") or {}
    if not path.is_file():
        raise ConfigError(f"{root}: no {ONNX_FILE}; run `artlens export {root} --onnx` first")
    if record.get("weights_sha256") != weights_fingerprint(root):
        if use_onnx:
            raise ConfigError(f"{path}: exported from other weights than {WEIGHTS_FILE}; export again")
        return None
    from artlens.models.onnxrt import cpu_session

    try:
        return cpu_session(path)
    except Exception as exc:  # ONNX Runtime raises its own exception types
        if use_onnx:
            raise ConfigError(f"{path}: ONNX Runtime cannot load it: {exc}") from None
        return None
