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
:func:`embed_training_set`) over pristine photos and the distortions of :mod:`artlens.iqa.train.distortions`.

A trained model is a folder: ``config.json`` (:class:`QualityModelConfig`) and ``model.safetensors`` (the
head only; the backbone is named in the config and resolved through :mod:`artlens.weights`).

Two tasks share this format. ``task="score"`` (the default) has one head output mapped to 0-100 as above.
``task="classes"`` (a model trained on a user's own labels, :mod:`artlens.iqa.train.labels`) has one output
per
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

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from artlens.errors import ArtlensError, ConfigError, WeightsError
from artlens.evaluation import softmax
from artlens.imageio import as_rgb_uint8
from artlens.iqa.config import (
    BACKBONE_PREFIX,
    DESCRIPTOR_PREFIX,
    SCHEMA,
    QualityModelConfig,
    load_config,
)
from artlens.iqa.files import CONFIG_FILE, ONNX_FILE, WEIGHTS_FILE
from artlens.iqa.heads import QualityHead, calibrated, fuse_heads, new_head, quality_from_raw
from artlens.iqa.preprocess import normaliser, pool_maps, prepare_image
from artlens.models.backbones import Backbone, StageMaps, get_backbone

__all__ = ["QualityModel"]


def _compact(tensor: torch.Tensor) -> torch.Tensor:
    """A backbone tensor to store: float16 when that holds it exactly (the recipe's fine-tuning rounds to
    it, :mod:`artlens.iqa.train.finetune`), else float32. :meth:`QualityModel.load` converts back."""
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
        Passed to :func:`artlens.models.backbones.get_backbone` when ``backbone`` is None.
    descriptor_head
        The trained head over :mod:`artlens.iqa.descriptors` (required when ``config.descriptors``).

    Attributes
    ----------
    backbone_keys
        Keys of ``backbone.trunk.state_dict()`` that were fine-tuned; :meth:`save` stores them (prefixed
        ``backbone.``) beside the head. Empty for a frozen backbone.
    stage_maps
        The :class:`~artlens.models.backbones.StageMaps` of ``config.stages`` over the backbone's trunk, or
        None
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
            head = new_head(config.embed_dim, config.hidden, config.dropout, out_dim=config.n_outputs)
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
            return self.pooled(rgbs, batch_size).cpu()

    def pooled(self, rgbs: Sequence[np.ndarray] | np.ndarray, batch_size: int) -> torch.Tensor:
        """:meth:`embed` under the caller's autograd mode (fine-tuning backpropagates through it)."""
        images = [as_rgb_uint8(im) for im in rgbs]
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
                    pooled = torch.cat([pool_maps(m.float(), p) for m in maps for p in c.pooling],
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

        The pooled features agree with PyTorch's to about 1e-5; see :mod:`artlens.iqa.onnx_trunk`.
        """
        from artlens.iqa.onnx_trunk import onnx_trunk

        self._onnx = onnx_trunk(self.backbone, self.stage_maps) if enabled else None
        return self._onnx is not None

    # -- scores
    def raw_scores(self, features: torch.Tensor | np.ndarray, descriptors: np.ndarray | None = None
                   ) -> np.ndarray:
        """The head's raw outputs for pooled features from :meth:`embed`: (N,), or (N, K) class logits.

        A model with a descriptor head also needs ``descriptors`` (:func:`artlens.iqa.descriptors.
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
        from artlens.iqa.descriptors import describe

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

        ``descriptors``: the images' :func:`artlens.iqa.descriptors.describe`, when already computed
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


