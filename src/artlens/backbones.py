"""Pretrained feature extractors by name, each bound to the preprocessing its weights expect.

A :class:`BackboneSpec` is data: the weight file, the input size, the resize and the normalisation the
weights were trained with. :func:`get_backbone` builds the network, loads the verified weight file from
:func:`artlens.weights.resolve` and returns a :class:`Backbone` whose :meth:`Backbone.preprocess` applies
exactly that spec, so a caller cannot pair a model with the wrong transform. The pattern follows
torchvision's weights API (``torchvision/models/_api.py``), but weights only ever come from the artlens
registry: torchvision's own downloader is never called.

Backbones: ``mobilenet_v2`` and ``efficientnet_lite0`` always; any other torchvision classification model
with a convolutional trunk (``resnet18``, ``vgg16`` ...) when a file named like its torchvision weights is
registered in :mod:`artlens.weights`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from artlens import weights as _weights
from artlens._efficientnet_lite import EfficientNetLite
from artlens.errors import ArtlensError, ConfigError, WeightsError

__all__ = [
    "MULTI_LEVEL_STAGES",
    "Backbone",
    "BackboneSpec",
    "StageMaps",
    "check_stages",
    "configure_threads",
    "get_backbone",
    "list_backbones",
    "select_device",
    "trunk_blocks",
    "tunable_blocks",
]

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


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


def _imagenet_categories() -> tuple[str, ...]:
    from torchvision.models import MobileNet_V2_Weights

    return tuple(MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"])


# Backbones defined here rather than derived from torchvision. EfficientNet-Lite was trained in TensorFlow
# with inputs (x - 127) / 128 (efficientnet_lite_builder.py); its stem batch-norm statistics confirm it.
_SPECS: dict[str, BackboneSpec] = {
    "mobilenet_v2": BackboneSpec("mobilenet_v2", "mobilenet_v2", 1280, 224,
                                 _IMAGENET_MEAN, _IMAGENET_STD, 256),
    "efficientnet_lite0": BackboneSpec("efficientnet_lite0", "efficientnet_lite0", 1280, 224,
                                       (127 / 255,) * 3, (128 / 255,) * 3, 256),
}

# The submodules, in call order, that map an image to the last convolution's maps, per torchvision family.
_TV_TRUNKS: dict[str, tuple[str, ...]] = {
    "ResNet": ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"),
    "RegNet": ("stem", "trunk_output"),
    "ShuffleNetV2": ("conv1", "maxpool", "stage2", "stage3", "stage4", "conv5"),
    "MNASNet": ("layers",),
    "DenseNet": ("features",),  # followed by a ReLU, as in DenseNet.forward
    "AlexNet": ("features",),
    "VGG": ("features",),
    "SqueezeNet": ("features",),
    "MobileNetV2": ("features",),
    "MobileNetV3": ("features",),
    "EfficientNet": ("features",),
    "ConvNeXt": ("features",),
}


# ------------------------------------------------------------------------------------------------------------
# Devices and threads
# ------------------------------------------------------------------------------------------------------------

def select_device(prefer: str | None = None) -> torch.device:
    """The torch device to run on.

    Parameters
    ----------
    prefer
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"auto"``. When ``None``, ``$ARTLENS_DEVICE`` is
        used, else ``"auto"``: CUDA when present, otherwise the CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    ConfigError
        The device name is invalid or the device is not available.
    """
    choice = (prefer if prefer is not None else os.environ.get("ARTLENS_DEVICE", "")).strip().lower()
    if choice in {"", "auto"}:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(choice)
    except (RuntimeError, ValueError):
        raise ConfigError(f"unknown device {choice!r}; use cpu, cuda, cuda:N, mps or auto") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {choice!r} requested but CUDA is not available; use cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            count = torch.cuda.device_count()
            raise ConfigError(f"device {choice!r} requested but only {count} CUDA devices exist")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' requested but MPS is not available; use cpu")
    elif device.type not in {"cpu", "cuda", "mps"}:
        raise ConfigError(f"unsupported device {choice!r}; use cpu, cuda, cuda:N, mps or auto")
    return device


def _physical_cores() -> int | None:
    """Physical cores from /proc/cpuinfo (Linux), or None where that cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    cores = set()
    physical = core = None
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if core is not None:
                cores.add((physical, core))
            physical = core = None
        elif line.startswith("physical id"):
            physical = line.split(":", 1)[1].strip()
        elif line.startswith("core id"):
            core = line.split(":", 1)[1].strip()
    return len(cores) or None


_threads_lock = threading.Lock()
_threads_set: int | None = None


def configure_threads(n: int | None = None) -> int:
    """Set torch's intra-op thread count and return it.

    Parameters
    ----------
    n
        Threads to use. When ``None``: ``$ARTLENS_THREADS`` if set, else the physical cores this process may
        run on; and if threads were configured before, that setting is kept.

    Returns
    -------
    int
        The thread count in effect.
    """
    global _threads_set
    with _threads_lock:
        if n is None:
            if _threads_set is not None:
                return _threads_set
            env = os.environ.get("ARTLENS_THREADS", "").strip()
            if env:
                try:
                    n = int(env)
                except ValueError:
                    raise ConfigError(f"ARTLENS_THREADS={env!r} is not an integer") from None
            else:
                logical = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
                n = min(logical or 1, _physical_cores() or logical or 1)
        if n < 1:
            raise ConfigError(f"thread count must be at least 1, got {n}")
        torch.set_num_threads(n)
        _threads_set = n
        return n


# ------------------------------------------------------------------------------------------------------------
# The extractor
# ------------------------------------------------------------------------------------------------------------

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
        img = _as_rgb_uint8(rgb_uint8)
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


def _as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ArtlensError(f"expected an RGB image (H, W, 3), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ArtlensError(f"empty image of shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        arr = np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
    elif arr.dtype != np.uint8:
        raise ArtlensError(f"expected uint8 (or float in [0, 1]) pixels, got {arr.dtype}")
    return np.ascontiguousarray(arr)


# ------------------------------------------------------------------------------------------------------------
# Building
# ------------------------------------------------------------------------------------------------------------

_NORMS = (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)


def trunk_blocks(trunk: nn.Module) -> list[nn.Module]:
    """The trunk's blocks, in order, that take part in its forward pass (what fine-tuning unfreezes).

    Descends through single wrappers to the first level with several parameterised children, expands module
    lists (containers, not layers), drops modules the forward pass never calls (such as a classifier kept
    beside the trunk) and joins a lone normalisation layer to the block before it, so a bare "convolution,
    batch norm" pair counts as one block, as in torchvision's ``Conv2dNormActivation``.
    """
    module = trunk
    while True:
        kids = [m for m in module.children() if next(m.parameters(), None) is not None]
        if len(kids) != 1:
            break
        module = kids[0]
    blocks: list[nn.Module] = []
    for m in kids:
        if isinstance(m, nn.ModuleList):
            blocks.extend(c for c in m if next(c.parameters(), None) is not None)
        else:
            blocks.append(m)
    called: set[int] = set()
    hooks = [b.register_forward_hook(lambda mod, *_: called.add(id(mod))) for b in blocks]
    param = next(trunk.parameters())
    try:
        with torch.inference_mode():
            trunk(torch.zeros(1, 3, 64, 64, device=param.device, dtype=param.dtype))
    finally:
        for h in hooks:
            h.remove()
    joined: list[nn.Module] = []
    for b in (b for b in blocks if id(b) in called):
        if joined and isinstance(b, _NORMS):
            prev = joined.pop()
            joined.append(nn.ModuleList([*(prev if isinstance(prev, nn.ModuleList) else [prev]), b]))
        else:
            joined.append(b)
    return joined


def check_stages(stages: Sequence[int], n_blocks: int | None = None) -> tuple[int, ...]:
    """``stages`` as a tuple of ints after checking that they are increasing, distinct block numbers from 0
    (below ``n_blocks`` when it is known); raises ConfigError otherwise."""
    out = tuple(int(s) for s in stages)
    top = "" if n_blocks is None else f" below {n_blocks}"
    if list(out) != sorted(set(out)) or any(s < 0 or (n_blocks is not None and s >= n_blocks) for s in out):
        raise ConfigError(f"stages must be increasing, distinct block numbers from 0{top}, got {list(out)}")
    return out


#: Blocks of :func:`trunk_blocks` that a quality model pools by default (:class:`StageMaps`), per backbone:
#: for MobileNetV2 the last block of each group of equal width from stride 4 on (24, 32, 64, 96, 160 and
#: 320 channels). A backbone not listed pools its last convolution.
MULTI_LEVEL_STAGES: dict[str, tuple[int, ...]] = {"mobilenet_v2": (3, 6, 10, 13, 16, 17)}

_HOOK_LOCK = threading.Lock()  # one hooked pass at a time: hooks on shared blocks see every caller's pass


class StageMaps(nn.Module):
    """The output maps of chosen :func:`trunk_blocks` of a trunk, shallow to deep: multi-level features.

    Early blocks keep the local statistics that blur, noise and compression change; the last ones mostly
    content. Pooling the outputs of blocks at every depth is the multi-level spatially pooled (MLSP) feature
    of Hosu, Goldluecke and Saupe, "Effective aesthetics prediction with multi-level spatially pooled
    features", CVPR 2019. A trunk that is a plain sequence of its blocks (MobileNetV2) runs block by block,
    only as deep as the deepest chosen one; any other runs whole while forward hooks take the chosen blocks'
    outputs, one pass at a time (a lock keeps concurrent passes from reading each other's maps). Shares
    parameters with ``trunk``.

    Parameters
    ----------
    trunk
        A backbone's trunk (:attr:`Backbone.trunk`).
    stages
        Distinct indices into :func:`trunk_blocks` of ``trunk``, increasing.

    Attributes
    ----------
    channels
        Channels of each chosen block's output.
    """

    def __init__(self, trunk: nn.Module, stages: Sequence[int]) -> None:
        super().__init__()
        blocks = trunk_blocks(trunk)
        if not stages:
            raise ConfigError("StageMaps needs at least one stage")
        self.stages = stages = check_stages(stages, len(blocks))
        self._sequence = isinstance(trunk, nn.Sequential) and len(trunk) == len(blocks) \
            and all(a is b for a, b in zip(trunk, blocks, strict=True))
        self.trunk = trunk[:stages[-1] + 1] if self._sequence else trunk
        # a joined "convolution, normalisation" block is a list: its output is the normalisation's
        self._taps = [b[-1] if isinstance(b, nn.ModuleList) else b for b in (blocks[s] for s in stages)]
        param = next(trunk.parameters())
        with torch.inference_mode():
            probe = self(torch.zeros(1, 3, 64, 64, device=param.device, dtype=param.dtype))
        self.channels = tuple(int(m.shape[1]) for m in probe)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """A preprocessed batch (N, 3, H, W) in; one (N, C_i, h_i, w_i) map per stage out."""
        if self._sequence:
            maps = []
            for i, block in enumerate(self.trunk):
                x = block(x)
                if i in self.stages:
                    maps.append(x)
            return tuple(maps)
        outputs: dict[int, torch.Tensor] = {}
        with _HOOK_LOCK:
            hooks = [tap.register_forward_hook(lambda _m, _in, out, i=i: outputs.__setitem__(i, out))
                     for i, tap in enumerate(self._taps)]
            try:
                self.trunk(x)
            finally:
                for hook in hooks:
                    hook.remove()
        return tuple(outputs[i] for i in range(len(self._taps)))


def tunable_blocks(trunk: nn.Module, n: int, *, deepest: int | None = None) -> list[nn.Module]:
    """The last ``n`` of :func:`trunk_blocks`, or of those up to block ``deepest`` (a model that pools
    :class:`StageMaps` never runs the blocks after its deepest stage): the most task-specific features.

    Yosinski et al., "How transferable are features in deep neural networks?", NeurIPS 2014.
    """
    blocks = trunk_blocks(trunk)
    if deepest is not None:
        blocks = blocks[:deepest + 1]
    return blocks[-n:] if n > 0 else []


class _LiteTrunk(nn.Module):
    def __init__(self, net: EfficientNetLite) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.forward_features(x)


def _torchvision_trunk(model: nn.Module, name: str) -> nn.Module:
    family = type(model).__name__
    attrs = _TV_TRUNKS.get(family)
    if attrs is None:
        supported = ", ".join(sorted(_TV_TRUNKS))
        raise ArtlensError(f"backbone {name!r} ({family}) has no convolutional trunk artlens can pool; "
                           f"supported families: {supported}")
    parts = [getattr(model, a) for a in attrs]
    if family == "DenseNet":
        parts.append(nn.ReLU())
    return parts[0] if len(parts) == 1 else nn.Sequential(*parts)


def _new_network(name: str) -> nn.Module:
    if name == "efficientnet_lite0":
        return EfficientNetLite()
    import torchvision.models as tvm

    return tvm.get_model(name, weights=None)


def _trunk_of(name: str, model: nn.Module) -> nn.Module:
    return _LiteTrunk(model) if isinstance(model, EfficientNetLite) else _torchvision_trunk(model, name)


def _torchvision_spec(name: str) -> BackboneSpec:
    """Spec for a torchvision classifier whose weight file (by torchvision's file name) is registered."""
    import torchvision.models as tvm

    if name not in tvm.list_models(module=tvm):
        known = ", ".join(list_backbones())
        raise ArtlensError(f"unknown backbone {name!r}; available: {known} "
                           "(or a torchvision classification model whose weights are registered)")
    enum = tvm.get_model_weights(name)
    candidates = [enum.DEFAULT] + [w for w in enum if w is not enum.DEFAULT]
    by_file = {w.filename: w for w in _weights.REGISTRY.values()}
    for tv_weights in candidates:
        entry = by_file.get(Path(tv_weights.url).name)
        if entry is None:
            continue
        tf = tv_weights.transforms()
        categories = tuple(tv_weights.meta.get("categories") or ())
        return BackboneSpec(
            name=name, weight_name=entry.name, feature_dim=0,
            input_size=int(tf.crop_size[0]), mean=tuple(tf.mean), std=tuple(tf.std),
            resize=int(tf.resize_size[0]), num_classes=len(categories) or 1000, categories=categories,
        )
    wanted = ", ".join(Path(w.url).name for w in candidates)
    raise WeightsError(f"the weights for backbone {name!r} are not registered in artlens.weights "
                       f"(looked for {wanted}); register a WeightFile with one of these file names")


def _spec_for(name: str) -> BackboneSpec:
    spec = _SPECS.get(name)
    if spec is not None:
        return replace(spec, categories=_imagenet_categories())
    return _torchvision_spec(name)


def _load_state_dict(path: Path, name: str) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling failure means the file is unusable
        raise WeightsError(f"{path}: cannot be read as a torch state dict for {name!r}: {exc}") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: expected a state dict for {name!r}, got {type(state).__name__}")
    return state


def _assemble(name: str, spec: BackboneSpec, state: dict[str, torch.Tensor] | None, device: torch.device,
              with_classifier: bool) -> Backbone:
    """Build the network for ``spec`` with ``state`` (random initialisation when None) into a Backbone."""
    if state is None:
        model = _new_network(name)
    else:
        with torch.device("meta"):  # skip the random initialisation the state dict overwrites
            model = _new_network(name)
        try:
            model.load_state_dict(state, strict=True, assign=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()
            raise WeightsError(f"weight file {spec.weight_name!r} does not fit backbone {name!r}: "
                               f"{' '.join(first[:3])}") from exc
        if any(t.is_meta for t in [*model.parameters(), *model.buffers()]):
            raise WeightsError(f"weight file {spec.weight_name!r} leaves parts of {name!r} uninitialised")
    trunk = _trunk_of(name, model)
    if spec.feature_dim <= 0:
        with torch.inference_mode():
            probe = trunk.eval()(torch.zeros(1, 3, spec.input_size, spec.input_size))
        spec = replace(spec, feature_dim=int(probe.shape[1]))
    return Backbone(model if with_classifier else trunk, trunk, spec, device, with_classifier=with_classifier)


_cache: dict[tuple[str, str, bool], Backbone] = {}
_cache_lock = threading.Lock()


def list_backbones() -> list[str]:
    """Names :func:`get_backbone` accepts whose weight files are registered, sorted."""
    names = set(_SPECS)
    try:
        import torchvision.models as tvm
    except ImportError:  # pragma: no cover - torchvision is a dependency
        return sorted(names)
    registered = {w.filename for w in _weights.REGISTRY.values()}
    for model_name in tvm.list_models(module=tvm):
        if any(Path(w.url).name in registered for w in tvm.get_model_weights(model_name)):
            names.add(model_name)
    return sorted(names)


def get_backbone(name: str = "mobilenet_v2", *, device: str | None = None,
                 with_classifier: bool = False) -> Backbone:
    """A pretrained feature extractor, loaded once per process and device.

    Parameters
    ----------
    name
        ``mobilenet_v2``, ``efficientnet_lite0``, or a torchvision classification model whose weight file
        is registered in :mod:`artlens.weights` (see :func:`list_backbones`).
    device
        Passed to :func:`select_device`.
    with_classifier
        Keep the ImageNet classification head so :meth:`Backbone.logits` works.

    Returns
    -------
    Backbone

    Raises
    ------
    ArtlensError
        Unknown name or unsupported architecture.
    WeightsError
        The weights are not registered, cannot be resolved, or do not fit the network.

    Notes
    -----
    MobileNetV2 follows Sandler et al. (2018), "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
    CVPR; EfficientNet-Lite0 follows Tan & Le (2019), "EfficientNet: Rethinking Model Scaling for
    Convolutional Neural Networks", ICML, in its Lite form (no squeeze-excite, ReLU6).
    """
    dev = select_device(device)
    key = (name, str(dev), with_classifier)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        configure_threads()
        spec = _spec_for(name)
        path = _weights.resolve(spec.weight_name)
        backbone = _assemble(name, spec, _load_state_dict(path, name), dev, with_classifier)
        _cache[key] = backbone
        return backbone

