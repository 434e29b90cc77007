"""Export a quality model folder to ONNX and check the export against PyTorch.

The graph is the whole network after preprocessing (:func:`artlens.iqa.model.prepare_image`):

* inputs ``scale_0``, ``scale_1``, ... (one per ``config.sizes``, largest first): the images as
  :func:`~artlens.iqa.model.prepare_image` returns them, (N, 3, Hp, Wp) float32 with Hp and Wp multiples
  of 32. No cell counts are passed: the padding adds no feature cell, so the graph crops the maps to
  ``(Hp / 32, Wp / 32)`` cells, exactly the ones :class:`~artlens.iqa.model.QualityModel` pools (a
  model with ``stages`` pools each stage's whole map, in PyTorch as here). Images
  batched together must share their padded shape at every scale; batch, height and width are dynamic.
* ``descriptors`` (N, D) float32, D = ``len(config.descriptors)``, only for a model with a descriptor head
  (:func:`artlens.iqa.descriptors.describe`; NaN entries read as the training mean, as in PyTorch).
* outputs ``raw`` (N,) the fused raw score, or (N, K) class logits, as
  :meth:`~artlens.iqa.model.QualityModel.raw_scores` gives them; and ``quality`` (N,) 0-100, as
  :meth:`~artlens.iqa.model.QualityModel.scores_from_raw` gives it (the calibration is inside the graph
  so the file serves on its own).

The file is written as ``model.onnx`` next to ``model.safetensors``; ``config.json`` records under ``onnx``
the opset, the input and output names, the backbone's normalisation and the SHA-256 of the weights and of the
config it came from, so a retrained or recalibrated folder never runs a stale export
(:class:`artlens.iqa.onnx_model.OnnxQualityModel` refuses it). The shipped model's folder is pinned by
SHA-256 and never written: export it into a copy with ``out``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch
from torch import nn

from artlens.errors import ArtlensError, ConfigError
from artlens.files import sha256_file
from artlens.iqa.config import STRIDE, config_fingerprint
from artlens.iqa.files import CONFIG_FILE, ONNX_FILE, WEIGHTS_FILE
from artlens.iqa.heads import fuse_heads, quality_from_raw
from artlens.iqa.model import QualityModel
from artlens.iqa.preprocess import pool_maps
from artlens.models.backbones import Backbone
from artlens.models.onnxrt import OPSET, export_module

__all__ = ["OPSET", "QUALITY_TOLERANCE", "TOLERANCE", "export_onnx", "onnx_parity"]

TOLERANCE = 1e-4  # largest allowed |ONNX - PyTorch| difference of a raw output on the probe images
QUALITY_TOLERANCE = 1e-2  # and of a 0-100 quality (a steep calibration magnifies raw differences)


def _graph_pool(maps: torch.Tensor, name: str) -> torch.Tensor:
    """:func:`artlens.iqa.model._pool` in operators ONNX has (``torch.quantile`` is not one).

    A percentile is a weighted sum of the sorted values with the weights ``max(0, 1 - |j - q (n - 1)|)``,
    which is the linear interpolation ``torch.quantile`` uses.
    """
    if not name.startswith("q"):
        return pool_maps(maps, name)
    values = maps.flatten(2).sort(dim=2).values
    j = torch.ones_like(values[:1, :1]).cumsum(dim=2) - 1.0  # (1, 1, n): 0 .. n-1, n dynamic
    pos = j[:, :, -1:] * (int(name[1:]) / 100.0)
    return (values * torch.relu(1.0 - (j - pos).abs())).sum(dim=2)


class _QualityGraph(nn.Module):
    """Trunk, pooling, head(s), fusion and calibration of a :class:`QualityModel` as one module."""

    def __init__(self, model: QualityModel) -> None:
        super().__init__()
        self.config = model.config
        self.trunk = model.backbone.trunk
        self.stages = model.stage_maps  # None: the last convolution alone
        self.head = model.head
        self.descriptor_head = model.descriptor_head

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        pooled = []
        for x in inputs[:len(c.sizes)]:
            if self.stages is None:
                maps = (self.trunk(x)[:, :, :x.shape[2] // STRIDE, :x.shape[3] // STRIDE],)
            else:
                maps = self.stages(x)
            pooled.extend(_graph_pool(m, p) for m in maps for p in c.pooling)
        descriptors = inputs[len(c.sizes)] if self.descriptor_head is not None else None
        raw = fuse_heads(self.head(torch.cat(pooled, dim=1)), descriptors, c, self.descriptor_head)
        return raw, quality_from_raw(raw, c)


def _probes(seed: int) -> list[np.ndarray]:
    """Probe images: smooth random fields with noise, several sizes and aspect ratios, and one flat image."""
    import cv2

    rng = np.random.default_rng(seed)
    images = []
    for h, w in ((300, 420), (500, 260), (120, 150), (620, 470)):
        coarse = rng.uniform(0, 255, (max(2, h // 40), max(2, w // 40), 3)).astype(np.float32)
        smooth = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
        images.append(np.clip(smooth + rng.normal(0, 12, smooth.shape), 0, 255).astype(np.uint8))
    images.append(np.full((96, 160, 3), 128, np.uint8))  # undefined NSS statistics: the NaN path
    return images


def onnx_parity(folder: str | Path, *, backbone: Backbone | None = None, seed: int = 0) -> dict[str, float]:
    """Largest absolute differences between the ONNX export and PyTorch on probe images.

    PyTorch is :meth:`QualityModel.raw_scores` / :meth:`QualityModel.scores_from_raw` with the trunk on
    PyTorch; ONNX is :class:`artlens.iqa.onnx_model.OnnxQualityModel`, given the same descriptors.

    Returns
    -------
    dict
        ``{"raw": ..., "quality": ...}``.
    """
    from artlens.iqa.onnx_model import OnnxQualityModel

    model = QualityModel.load(folder, backbone=backbone, device="cpu")
    exported = OnnxQualityModel(folder)
    images = _probes(seed)
    descriptors = model.describe(images)
    raw = model.raw_scores(model.embed(images), descriptors)
    got_raw, got_quality = exported.outputs(images, descriptors=descriptors)
    return {"raw": float(np.abs(got_raw - raw).max()),
            "quality": float(np.abs(got_quality - model.scores_from_raw(raw)).max())}


def _target(source: Path, out: Path | None) -> Path:
    """The folder to export into: ``source`` itself, or ``out``; refuses the shipped folder and busy ones."""
    from artlens.iqa.default import DEFAULT_MODEL_DIR

    shipped = DEFAULT_MODEL_DIR.resolve()
    if out is None or out.resolve() == source.resolve():
        if source.resolve() == shipped:
            raise ConfigError(f"{source} is the shipped quality model, whose files are pinned by SHA-256: "
                              f"export a copy with --out DIR")
        return source
    if out.resolve() == shipped:
        raise ConfigError(f"{out} is the shipped quality model's folder; choose another --out")
    if out.exists() and (not out.is_dir() or any(p.name not in {CONFIG_FILE, WEIGHTS_FILE, ONNX_FILE}
                                                  for p in out.iterdir())):
        raise ConfigError(f"{out} holds other files; give a new or empty folder as --out")
    return out


def _copy_model(source: Path, out: Path) -> None:
    """Copy a model's files into ``out`` (an earlier export there is removed)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / ONNX_FILE).unlink(missing_ok=True)
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        shutil.copyfile(source / name, out / name)


def _write_config(folder: Path, record: dict | None) -> None:
    path = folder / CONFIG_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("onnx", None)
    if record:
        data["onnx"] = record
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def export_onnx(model_dir: str | Path, *, out: str | Path | None = None, backbone: Backbone | None = None,
                check: bool = True) -> dict:
    """Write ``model.onnx`` for a quality model folder and record it in ``config.json``.

    Parameters
    ----------
    model_dir
        A folder written by ``artlens train quality`` (or :meth:`QualityModel.save`).
    out
        Export into this folder instead (new, empty, or an earlier export): ``config.json`` and
        ``model.safetensors`` are copied there first. Required for the shipped model.
    backbone
        The backbone to load the model with (default: the one its config names).
    check
        Compare ONNX Runtime with PyTorch on probe images (:func:`onnx_parity`) and refuse an export whose
        raw outputs differ by more than ``1e-4`` (or its 0-100 qualities by more than ``1e-2``).

    Returns
    -------
    dict
        ``{"path", "opset", "bytes", "inputs", "outputs", "max_abs_diff"}`` (``max_abs_diff``: the raw and
        quality differences, None without ``check``).

    Raises
    ------
    ConfigError
        ``model_dir`` is the shipped model and no other ``out`` is given, or ``out`` holds other files.
    ArtlensError
        The export fails, or the check finds a larger difference (the file and its record are removed).
    """
    source = Path(model_dir)
    root = _target(source, Path(out) if out is not None else None)
    model = QualityModel.load(source, backbone=backbone, device="cpu")  # validates before anything is copied
    if root != source:
        _copy_model(source, root)
    c = model.config
    graph = _QualityGraph(model).eval()
    inputs = [f"scale_{i}" for i in range(len(c.sizes))]
    probe: list[torch.Tensor] = [torch.zeros((1, 3, 64, 96)) for _ in c.sizes]
    if model.descriptor_head is not None:
        inputs.append("descriptors")
        probe.append(torch.zeros((1, len(c.descriptors))))
    outputs = ["raw", "quality"]
    axes = {name: {0: "n", 2: f"h{i}", 3: f"w{i}"} for i, name in enumerate(inputs[:len(c.sizes)])}
    axes |= {"descriptors": {0: "n"}} if model.descriptor_head is not None else {}
    axes |= {name: {0: "n"} for name in outputs}
    path = export_module(graph, tuple(probe), root / ONNX_FILE, input_names=inputs, output_names=outputs,
                         dynamic_axes=axes, source=source)
    spec = model.backbone.spec
    record: dict = {"file": ONNX_FILE, "opset": OPSET, "inputs": inputs, "outputs": outputs,
                    "mean": list(spec.mean), "std": list(spec.std),
                    "weights_sha256": sha256_file(root / WEIGHTS_FILE),
                    "config_sha256": config_fingerprint(c)}
    _write_config(root, record)
    diff = None
    if check:
        diff = onnx_parity(root, backbone=backbone)
        if not (diff["raw"] <= TOLERANCE and diff["quality"] <= QUALITY_TOLERANCE):
            path.unlink(missing_ok=True)
            _write_config(root, None)
            raise ArtlensError(f"{root}: the ONNX export differs from PyTorch by {diff['raw']:.2e} in the "
                               f"raw score (tolerance {TOLERANCE:g}) and {diff['quality']:.2e} in quality "
                               f"(tolerance {QUALITY_TOLERANCE:g}); not kept")
        record["max_abs_diff"] = diff
        _write_config(root, record)
    return {"path": str(path), "opset": OPSET, "bytes": path.stat().st_size, "inputs": inputs,
            "outputs": outputs, "max_abs_diff": diff}
