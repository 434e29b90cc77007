"""Backbones by name: their specs, how each network is built from its verified weight file, and a
process-wide cache (:func:`get_backbone`)."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from artlens import weights as _weights
from artlens.errors import ArtlensError, WeightsError
from artlens.models.backbones.backbone import Backbone, BackboneSpec
from artlens.models.backbones.device import configure_threads, select_device
from artlens.models.backbones.efficientnet_lite import LITE_SCALING, EfficientNetLite

__all__ = ["get_backbone", "list_backbones"]

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _imagenet_categories() -> tuple[str, ...]:
    from torchvision.models import MobileNet_V2_Weights

    return tuple(MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"])


# Backbones defined here rather than derived from torchvision. EfficientNet-Lite was trained in TensorFlow
# with inputs (x - 127) / 128 (efficientnet_lite_builder.py); its stem batch-norm statistics confirm it.
_SPECS: dict[str, BackboneSpec] = {
    "mobilenet_v2": BackboneSpec("mobilenet_v2", "mobilenet_v2", 1280, 224,
                                 _IMAGENET_MEAN, _IMAGENET_STD, 256),
    **{name: BackboneSpec(name, name, 1280, size, (127 / 255,) * 3, (128 / 255,) * 3, size + 32)
       for name, (_w, _d, size) in LITE_SCALING.items()},
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
    if name in LITE_SCALING:
        width, depth, _ = LITE_SCALING[name]
        return EfficientNetLite(width=width, depth=depth)
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
