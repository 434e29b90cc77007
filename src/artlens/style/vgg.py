"""VGG convolution stacks as style-transfer encoders, each bound to the preprocessing its weights expect.

Two sources, both through :func:`artlens.weights.resolve`:

* ``vgg19``: torchvision's ImageNet VGG19 (RGB in [0, 1], normalised by the ImageNet mean and deviation),
  the network of Gatys et al.; used when its file is available locally.
* ``vgg16_hed``: the VGG16 convolution stack of an HED edge network (Xie & Tu 2015) that was initialised from
  ImageNet VGG16 and fine-tuned on BSDS500, stored as a Keras HDF5 file. Keras' VGG16 was converted from the
  Caffe model, so it takes BGR values in [0, 255] minus the Caffe channel means. Always available offline.

Layer names follow the paper: ``conv3_1`` is the first convolution of block 3 (before its ReLU), ``relu3_1``
the same after the ReLU, ``pool3`` the pooling that ends block 3.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from artlens import weights as _weights
from artlens.errors import ConfigError, WeightsError

__all__ = ["ENCODERS", "VGGEncoder", "check_layers", "default_encoder_name", "layer_names", "load_encoder"]

#: convolutions per block
_BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
_WIDTHS = (64, 128, 256, 512, 512)
_CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)  # Keras' VGG16 "caffe" preprocessing, BGR order
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

# The Caffe-converted VGG16 sees pixels in [0, 255]; torchvision's sees (x - mean) / std, about 255 * 0.226
# times smaller. Activations are scaled by the same factor so that loss weights tuned for torchvision's VGG
# (the tutorial's style weight 1e6) mean the same with either encoder (exact for conv1_1, close beyond).
_HED_FEATURE_SCALE = 1.0 / (255.0 * 0.226)

#: encoder name -> (architecture, weight file)
ENCODERS = {"vgg19": ("vgg19", "vgg19"), "vgg16_hed": ("vgg16", "vgg16_hed")}


def layer_names(arch: str) -> list[str]:
    """Names of the modules of ``arch`` (``"vgg16"`` or ``"vgg19"``) in call order."""
    names = []
    for block, n in enumerate(_BLOCKS[arch], start=1):
        for i in range(1, n + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names


@dataclass(frozen=True)
class _Preprocess:
    bgr: bool
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    feature_scale: float = 1.0


class VGGEncoder(nn.Module):
    """A frozen VGG stack that maps RGB images in [0, 1] to the activations of named layers.

    Parameters
    ----------
    arch
        ``"vgg16"`` or ``"vgg19"``.
    preprocess
        How RGB in [0, 1] becomes the network's input.
    name
        The encoder's name (``"vgg19"`` or ``"vgg16_hed"``).
    """

    def __init__(self, arch: str, preprocess: _Preprocess, name: str) -> None:
        super().__init__()
        self.arch = arch
        self.name = name
        self.names = layer_names(arch)
        layers: list[nn.Module] = []
        in_ch = 3
        for block, n in enumerate(_BLOCKS[arch]):
            for _ in range(n):
                layers += [nn.Conv2d(in_ch, _WIDTHS[block], 3, padding=1), nn.ReLU(inplace=False)]
                in_ch = _WIDTHS[block]
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
        self.layers = nn.ModuleList(layers)
        #: feed the convolutions channels-last (NHWC) tensors: faster with oneDNN (CPU) and cuDNN
        self.channels_last = True
        self._pre = preprocess
        mean = torch.tensor(preprocess.mean).view(1, 3, 1, 1)
        std = torch.tensor(preprocess.std).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)
        self.requires_grad_(False)
        self.eval()

    def convs(self) -> list[nn.Conv2d]:
        return [m for m in self.layers if isinstance(m, nn.Conv2d)]

    def normalise(self, rgb: torch.Tensor) -> torch.Tensor:
        """RGB (N, 3, H, W) in [0, 1] -> the network's input."""
        x = rgb.flip(1) if self._pre.bgr else rgb
        return (x * self._pre.scale - self.mean) / self.std

    def forward(self, rgb: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:  # type: ignore[override]
        """Activations of ``layers`` for RGB images (N, 3, H, W) in [0, 1]."""
        wanted = set(layers)
        unknown = wanted - set(self.names)
        if unknown:
            known = ", ".join(self.names)
            raise ConfigError(f"unknown {self.arch} layer(s) {sorted(unknown)}; known: {known}")
        last = max(self.names.index(n) for n in wanted)  # nothing deeper than the losses use is run
        x = self.normalise(rgb)
        if self.channels_last:  # the weights are converted at load (load_encoder)
            x = x.contiguous(memory_format=torch.channels_last)
        feats: dict[str, torch.Tensor] = {}
        for name, module in zip(self.names[: last + 1], self.layers, strict=False):
            x = module(x)
            if name in wanted:
                feats[name] = x * self._pre.feature_scale if self._pre.feature_scale != 1.0 else x
        return feats


def default_encoder_name() -> str:
    """``"vgg19"`` when its weight file is available locally (verified), otherwise ``"vgg16_hed"``."""
    try:
        return "vgg19" if _weights.local_status("vgg19").state == "verified" else "vgg16_hed"
    except WeightsError:
        return "vgg16_hed"


def _load_hed(model: VGGEncoder, path: str) -> None:
    import h5py

    convs = model.convs()
    keys = []
    for block, n in enumerate(_BLOCKS["vgg16"], start=1):
        keys += [f"block{block}/layers/conv2d" + ("" if i == 0 else f"_{i}") for i in range(n)]
    try:
        with h5py.File(path, "r") as fh:
            for conv, key in zip(convs, keys, strict=True):
                kernel = np.asarray(fh[f"{key}/vars/0"], dtype=np.float32)  # (kh, kw, in, out)
                bias = np.asarray(fh[f"{key}/vars/1"], dtype=np.float32)
                if kernel.shape != (3, 3, conv.in_channels, conv.out_channels):
                    raise WeightsError(f"{path}: {key} has shape {kernel.shape}, expected a VGG16 layer")
                conv.weight.data.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
                conv.bias.data.copy_(torch.from_numpy(bias))
    except (OSError, KeyError) as exc:
        raise WeightsError(f"{path}: not the expected HED VGG16 weight file ({exc})") from exc


def _load_torchvision(model: VGGEncoder, path: str) -> None:
    state = torch.load(path, map_location="cpu", weights_only=True)
    convs = model.convs()
    keys = sorted({k.rsplit(".", 1)[0] for k in state if k.startswith("features.")},
                  key=lambda k: int(k.split(".")[1]))
    if len(keys) != len(convs):
        raise WeightsError(f"{path}: {len(keys)} convolutions, expected {len(convs)}")
    for conv, key in zip(convs, keys, strict=True):
        conv.weight.data.copy_(state[f"{key}.weight"])
        conv.bias.data.copy_(state[f"{key}.bias"])


_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def _cached(name: str, device: str) -> VGGEncoder:
    arch, weight_name = ENCODERS[name]
    path = str(_weights.resolve(weight_name))
    if name == "vgg16_hed":
        pre = _Preprocess(bgr=True, scale=255.0, mean=_CAFFE_BGR_MEAN, std=(1.0, 1.0, 1.0),
                          feature_scale=_HED_FEATURE_SCALE)
        model = VGGEncoder(arch, pre, name)
        _load_hed(model, path)
    else:
        model = VGGEncoder(arch, _Preprocess(False, 1.0, _IMAGENET_MEAN, _IMAGENET_STD), name)
        _load_torchvision(model, path)
    return model.to(device, memory_format=torch.channels_last)


def load_encoder(name: str = "auto", device: torch.device | str = "cpu") -> VGGEncoder:
    """The encoder ``name`` (``"auto"``, ``"vgg19"``, ``"vgg16_hed"``) on ``device``, loaded once per process.

    Raises
    ------
    WeightsError
        The weight file cannot be resolved (the message lists every source tried).
    ConfigError
        Unknown encoder name.
    """
    if name == "auto":
        name = default_encoder_name()
    if name not in ENCODERS:
        raise ConfigError(f"unknown encoder {name!r}; use auto, {', '.join(ENCODERS)}")
    with _lock:
        return _cached(name, str(torch.device(device)))


def check_layers(encoder: VGGEncoder, layers: Sequence[str]) -> None:
    unknown = [n for n in layers if n not in encoder.names]
    if unknown:
        raise ConfigError(f"unknown {encoder.arch} layer(s) {unknown}; known: {', '.join(encoder.names)}")
