"""Image descriptors for search: a content embedding and, optionally, a style descriptor, in one pass.

The content embedding is the backbone's globally average-pooled last-convolution feature vector,
L2-normalised, so that an inner product is the cosine similarity. The style descriptor is built from the
channel-wise mean and standard deviation of intermediate feature maps (the statistics AdaIN transfers), taken
at the end of the stride-4, -8 and -16 stages of the same network during the same forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from artlens.models.backbones import HOOK_LOCK, Backbone, get_backbone

__all__ = ["Embedder", "Embeddings", "l2_normalise"]

#: Longest style descriptor; longer concatenations are reduced by a fixed random orthogonal projection.
STYLE_MAX_DIM = 512
_STYLE_STRIDES = (4, 8, 16)
_PROJECTION_SEED = 20170317  # fixed: the projection must be the same in every process and release


def l2_normalise(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows of ``x`` scaled to unit Euclidean length (zero rows stay zero), float32.

    Parameters
    ----------
    x
        (N, D) or (D,) array.
    eps
        Norms below this are treated as zero.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x``, float32.
    """
    arr = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=-1, keepdims=True)
    return (arr / np.maximum(norms, eps)).astype(np.float32, copy=False)


@dataclass(frozen=True)
class Embeddings:
    """Descriptors of a batch of images: ``content`` (N, D) and ``style`` (N, S) or ``None``."""

    content: np.ndarray
    style: np.ndarray | None


def _stage_container(trunk: nn.Module) -> nn.Module:
    """The sub-module with the most direct children: the sequence of stages of a convolutional trunk."""
    best, count = trunk, len(list(trunk.children()))
    for module in trunk.modules():
        n = len(list(module.children()))
        if n > count:
            best, count = module, n
    return best


class Embedder:
    """Content (and optionally style) descriptors from one pretrained backbone.

    Parameters
    ----------
    backbone
        A :class:`~artlens.models.backbones.Backbone` or its name for
        :func:`~artlens.models.backbones.get_backbone`.
    style
        Also compute the style descriptor.
    batch_size
        Images per forward pass.

    Notes
    -----
    The style descriptor follows the observation of Huang & Belongie that the channel-wise mean and standard
    deviation of convolutional feature maps carry an image's style. For each chosen layer the vector
    ``[mean, std]`` is power-normalised (signed square root, as in Perronnin et al.) and L2-normalised, so
    that every layer weighs the same; the layers are concatenated, reduced to at most :data:`STYLE_MAX_DIM`
    dimensions by a fixed orthogonal projection when longer, and L2-normalised again.

    References
    ----------
    .. [1] X. Huang and S. Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance
           Normalization", ICCV 2017.
    .. [2] F. Perronnin, J. Sánchez and T. Mensink, "Improving the Fisher Kernel for Large-Scale Image
           Classification", ECCV 2010.
    """

    def __init__(self, backbone: Backbone | str = "mobilenet_v2", *, style: bool = False,
                 batch_size: int = 16) -> None:
        self.backbone = get_backbone(backbone) if isinstance(backbone, str) else backbone
        self.with_style = style
        self.batch_size = batch_size
        self._style_layers: list[nn.Module] = []
        self._projection: np.ndarray | None = None
        if style:
            self._style_layers = self._pick_style_layers()
            raw_dim = 2 * sum(self._layer_channels)
            if raw_dim > STYLE_MAX_DIM:
                rng = np.random.default_rng(_PROJECTION_SEED)
                q, _ = np.linalg.qr(rng.standard_normal((raw_dim, STYLE_MAX_DIM)))
                self._projection = q.astype(np.float32)

    @property
    def name(self) -> str:
        return self.backbone.spec.name

    @property
    def content_dim(self) -> int:
        return int(self.backbone.spec.feature_dim)

    @property
    def style_dim(self) -> int:
        if not self.with_style:
            return 0
        return STYLE_MAX_DIM if self._projection is not None else 2 * sum(self._layer_channels)

    def _pick_style_layers(self) -> list[nn.Module]:
        """The last stage at each of the strides 4, 8 and 16, found by a probe pass on a blank image."""
        size = self.backbone.spec.input_size
        container = _stage_container(self.backbone.trunk)
        shapes: list[tuple[nn.Module, int, int]] = []
        with HOOK_LOCK:  # the backbone is shared: another thread's hooked pass must not mix in
            hooks = [child.register_forward_hook(
                lambda mod, _inp, out: shapes.append((mod, out.shape[1], out.shape[2]))
                if isinstance(out, torch.Tensor) and out.ndim == 4 else None)
                for child in container.children()]
            try:
                with torch.inference_mode():
                    probe = torch.zeros(1, 3, size, size, device=self.backbone.device)
                    self.backbone.feature_maps(probe.contiguous(memory_format=torch.channels_last))
            finally:
                for hook in hooks:
                    hook.remove()
        chosen: dict[int, tuple[nn.Module, int]] = {}
        for module, channels, height in shapes:
            stride = round(size / max(height, 1))
            if stride in _STYLE_STRIDES:
                chosen[stride] = (module, channels)  # the last one at that stride wins
        if not chosen:  # an unusual trunk: fall back to its last stage
            module, channels, _ = shapes[-1]
            chosen[0] = (module, channels)
        self._layer_channels = [chosen[s][1] for s in sorted(chosen)]
        return [chosen[s][0] for s in sorted(chosen)]

    def embed(self, images: Sequence[np.ndarray]) -> Embeddings:
        """Descriptors for RGB images (any size; each is preprocessed as the backbone's weights expect).

        Parameters
        ----------
        images
            RGB uint8 arrays (H, W, 3).

        Returns
        -------
        Embeddings
            ``content`` (N, D) and, with ``style=True``, ``style`` (N, S); both float32, rows of unit length.
        """
        captured: list[list[np.ndarray]] = [[] for _ in self._style_layers]

        def hook_for(slot: int):
            def hook(_mod: nn.Module, _inp: object, out: torch.Tensor) -> None:
                flat = out.float().flatten(2)
                stats = torch.cat([flat.mean(dim=2), flat.std(dim=2, unbiased=False)], dim=1)
                captured[slot].append(stats.cpu().numpy())
            return hook

        if not self._style_layers:
            content = self.backbone.features(list(images), batch_size=self.batch_size)
        else:
            # Hooks on the process-wide cached backbone see every caller's pass: one hooked pass at a time,
            # under the same lock as :class:`~artlens.models.backbones.StageMaps` (the service embeds in
            # parallel threads).
            with HOOK_LOCK:
                hooks = [layer.register_forward_hook(hook_for(i))
                         for i, layer in enumerate(self._style_layers)]
                try:
                    content = self.backbone.features(list(images), batch_size=self.batch_size)
                finally:
                    for hook in hooks:
                        hook.remove()
        style = None
        if self.with_style:
            parts = []
            for chunks in captured:
                stats = np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32)
                parts.append(l2_normalise(np.sign(stats) * np.sqrt(np.abs(stats))))
            style = np.concatenate(parts, axis=1) if parts else np.zeros((len(content), 0), np.float32)
            if self._projection is not None:
                style = style @ self._projection
            style = l2_normalise(style)
        return Embeddings(content=l2_normalise(content), style=style)
