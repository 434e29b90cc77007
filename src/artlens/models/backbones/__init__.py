"""Pretrained feature extractors by name, each bound to the preprocessing its weights expect.

A :class:`BackboneSpec` is data: the weight file, the input size, the resize and the normalisation the
weights were trained with. :func:`get_backbone` builds the network, loads the verified weight file from
:func:`artlens.weights.resolve` and returns a :class:`Backbone` whose :meth:`Backbone.preprocess` applies
exactly that spec, so a caller cannot pair a model with the wrong transform. The pattern follows
torchvision's weights API (``torchvision/models/_api.py``), but weights only ever come from the artlens
registry: torchvision's own downloader is never called.

Backbones: ``mobilenet_v2`` and ``efficientnet_lite0`` (``_lite1``, ``_lite2``) always; any other
torchvision classification model with a convolutional trunk (``resnet18``, ``vgg16`` ...) when a file named
like its torchvision weights is registered in :mod:`artlens.weights`.
"""

from __future__ import annotations

from artlens.models.backbones.backbone import Backbone, BackboneSpec
from artlens.models.backbones.device import configure_threads, one_thread, select_device
from artlens.models.backbones.registry import get_backbone, list_backbones
from artlens.models.backbones.taps import (
    HOOK_LOCK,
    MULTI_LEVEL_STAGES,
    StageMaps,
    check_stages,
    trunk_blocks,
    tunable_blocks,
)

__all__ = [
    "HOOK_LOCK",
    "MULTI_LEVEL_STAGES",
    "Backbone",
    "BackboneSpec",
    "StageMaps",
    "check_stages",
    "configure_threads",
    "get_backbone",
    "list_backbones",
    "one_thread",
    "select_device",
    "trunk_blocks",
    "tunable_blocks",
]

