"""A pretrained feature extractor bound to the preprocessing its weights expect (:class:`BackboneSpec`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from torch import nn

from artlens.errors import ArtlensError, ConfigError
from artlens.imageio import as_rgb_uint8

__all__ = ["Backbone", "BackboneSpec"]


@dataclass(frozen=True)
class BackboneSpec:
    """What a backbone's weights expect and produce.

    Attributes
    ----------
    name
        Backbone name passed to :func:`get_backbone`.
    weight_name
        Name of the weight file in the :mod:`artlens.weights` registry.
    feature_dim
        Length of the pooled feature vector (channels of the last convolution).
    input_size
        Side of the square centre crop fed to the network.
    mean, std
        Per-channel normalisation of RGB values scaled to [0, 1].
    resize
        Shorter image side before the centre crop (256 for a 224 crop).
    num_classes
        Number of classifier outputs.
    categories
        Class names in output order, when known.
    """

    name: str
    weight_name: str
    feature_dim: int
    input_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resize: int
    num_classes: int = 1000
    categories: tuple[str, ...] = field(default=(), repr=False, compare=False)



class Backbone:
    """A pretrained network in eval mode on its device, with the preprocessing its weights expect.

    Parameters
    ----------
    model
        The classifier (when ``with_classifier``) or the convolutional trunk alone.
    trunk
        Module mapping a normalised batch (N, 3, H, W) to the last convolution's maps (N, D, h, w); shares
        parameters with ``model``.
    spec
        The preprocessing and metadata bound to the weights.
    device
        Where the network runs.
    with_classifier
        Whether ``model`` ends in the classification head (enables :meth:`logits`).
    """

    def __init__(self, model: nn.Module, trunk: nn.Module, spec: BackboneSpec, device: torch.device,
                 *, with_classifier: bool = False) -> None:
        self.spec = spec
        self.device = torch.device(device)
        self.with_classifier = with_classifier
        # channels-last lets oneDNN / cuDNN pick their faster convolution kernels (about 2x on a 2-core CPU)
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)
        self.trunk = trunk.eval().to(self.device, memory_format=torch.channels_last)
        for p in self.model.parameters():
            p.requires_grad_(False)
        scale = 1.0 / (255.0 * np.asarray(spec.std, dtype=np.float32))
        self._scale = scale.astype(np.float32)
        self._offset = (np.asarray(spec.mean, dtype=np.float32) / np.asarray(spec.std, dtype=np.float32))

    def __repr__(self) -> str:
        return (f"Backbone({self.spec.name!r}, device={str(self.device)!r}, "
                f"with_classifier={self.with_classifier})")

    # -- preprocessing
    def preprocess(self, rgb_uint8: np.ndarray) -> torch.Tensor:
        """Resize the shorter side to ``spec.resize``, centre-crop ``spec.input_size`` and normalise.

        Parameters
        ----------
        rgb_uint8
            An (H, W, 3) RGB image, uint8 (or float in [0, 1]); grey (H, W) and RGBA are accepted.

        Returns
        -------
        torch.Tensor
            (3, input_size, input_size) float32 on the CPU.
        """
        img = as_rgb_uint8(rgb_uint8)
        h, w = img.shape[:2]
        side, crop = self.spec.resize, self.spec.input_size
        if h <= w:
            new_h, new_w = side, max(side, int(side * w / h))
        else:
            new_h, new_w = max(side, int(side * h / w)), side
        if (new_h, new_w) != (h, w):
            interp = cv2.INTER_AREA if new_h < h else cv2.INTER_LINEAR
            img = cv2.resize(img, (new_w, new_h), interpolation=interp)
        top = round((new_h - crop) / 2.0)
        left = round((new_w - crop) / 2.0)
        img = img[top:top + crop, left:left + crop]
        out = img.astype(np.float32) * self._scale - self._offset
        return torch.from_numpy(np.ascontiguousarray(out.transpose(2, 0, 1)))

    def _batches(self, batch_rgb: Sequence[np.ndarray] | torch.Tensor,
                 batch_size: int) -> Iterator[torch.Tensor]:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        if isinstance(batch_rgb, torch.Tensor):
            if batch_rgb.ndim != 4 or batch_rgb.shape[1] != 3:
                shape = tuple(batch_rgb.shape)
                raise ArtlensError(f"a tensor batch must be preprocessed (N, 3, H, W), got {shape}")
            for i in range(0, batch_rgb.shape[0], batch_size):
                yield batch_rgb[i:i + batch_size].to(self.device, torch.float32,
                                                     memory_format=torch.channels_last)
            return
        if isinstance(batch_rgb, np.ndarray) and batch_rgb.ndim != 4:
            raise ArtlensError(f"pass a list of images or an (N, H, W, C) array, got shape {batch_rgb.shape}")
        images = list(batch_rgb)
        for i in range(0, len(images), batch_size):
            batch = torch.stack([self.preprocess(im) for im in images[i:i + batch_size]])
            yield batch.to(self.device, memory_format=torch.channels_last)

    # -- inference
    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        """The last convolution's maps (N, feature_dim, h, w) for a preprocessed batch (N, 3, H, W).

        Runs with autograd as the caller's context sets it, so gradients can flow (Grad-CAM).
        """
        return self.trunk(x.to(self.device, memory_format=torch.channels_last))

    def features(self, batch_rgb: Sequence[np.ndarray] | torch.Tensor, batch_size: int = 32) -> np.ndarray:
        """Globally average-pooled last-convolution features.

        Parameters
        ----------
        batch_rgb
            RGB images (each preprocessed here), or an already preprocessed (N, 3, H, W) tensor.
        batch_size
            Images per forward pass.

        Returns
        -------
        numpy.ndarray
            (N, feature_dim) float32.
        """
        chunks = []
        with torch.inference_mode():
            for x in self._batches(batch_rgb, batch_size):
                chunks.append(self.trunk(x).mean(dim=(2, 3)).float().cpu().numpy())
        if not chunks:
            return np.zeros((0, self.spec.feature_dim), np.float32)
        return np.concatenate(chunks).astype(np.float32, copy=False)

    def logits(self, batch_rgb: Sequence[np.ndarray] | torch.Tensor, batch_size: int = 32) -> np.ndarray:
        """Class scores before softmax, (N, num_classes) float32; needs ``with_classifier=True``."""
        if not self.with_classifier:
            raise ArtlensError(f"backbone {self.spec.name!r} was loaded without its classifier; "
                               "call get_backbone(..., with_classifier=True)")
        chunks = []
        with torch.inference_mode():
            for x in self._batches(batch_rgb, batch_size):
                chunks.append(self.model(x).float().cpu().numpy())
        if not chunks:
            return np.zeros((0, self.spec.num_classes), np.float32)
        return np.concatenate(chunks).astype(np.float32, copy=False)
