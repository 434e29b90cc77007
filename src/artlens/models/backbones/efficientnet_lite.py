"""EfficientNet-Lite0/1/2 (Tan & Le 2019; Lite variant, TensorFlow TPU models 2020) in plain PyTorch.

The parameter names follow the ``efficientnet_pytorch`` state-dict layout (``_conv_stem``, ``_bn0``,
``_blocks.N._expand_conv`` ... ``_conv_head``, ``_bn1``, ``_fc``) so the published ImageNet weights load
without renaming. The Lite variant differs from EfficientNet-B0 in three ways: no squeeze-and-excitation,
ReLU6 instead of swish, and a stem (32) and head (1280) that do not scale with the width multiplier.
Convolutions pad like TensorFlow's ``"SAME"`` (the extra row/column of a stride-2 convolution goes to the
bottom/right), which the weights were trained with. Lite1 and Lite2 scale the B0 table by the compound
width and depth multipliers of ``efficientnet_lite_builder.py`` (1.0/1.1 and 1.1/1.2; 240 and 260 px), the
first and last stages keeping their single block.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BLOCKS_B0", "LITE_SCALING", "EfficientNetLite", "round_filters", "round_repeats"]

# (repeats, kernel, first stride, expand ratio, in channels, out channels): the EfficientNet-B0 stage table.
BLOCKS_B0: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)

#: (width multiplier, depth multiplier, input size) of each Lite variant (efficientnet_lite_builder.py)
LITE_SCALING: dict[str, tuple[float, float, int]] = {
    "efficientnet_lite0": (1.0, 1.0, 224),
    "efficientnet_lite1": (1.0, 1.1, 240),
    "efficientnet_lite2": (1.1, 1.2, 260),
}

_BN_EPS = 1e-3  # the TensorFlow batch-norm epsilon the weights were trained with


def round_filters(filters: int, width: float, divisor: int = 8) -> int:
    """Channels scaled by ``width`` and rounded to a multiple of ``divisor``, never 10 % below the scaled
    value (``round_filters`` of the TensorFlow reference)."""
    if width == 1.0:
        return filters
    scaled = filters * width
    new = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return int(new + divisor if new < 0.9 * scaled else new)


def round_repeats(repeats: int, depth: float) -> int:
    """Blocks of a stage scaled by ``depth``, rounded up."""
    return math.ceil(depth * repeats)


class _SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow ``"SAME"`` padding, computed from the input size on each call."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__(cin, cout, kernel, stride=stride, padding=0, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        h, w = x.shape[-2:]
        pad_h = max((math.ceil(h / s) - 1) * s + k - h, 0)
        pad_w = max((math.ceil(w / s) - 1) * s + k - w, 0)
        if pad_h or pad_w:
            x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        return super().forward(x)


class _MBConv(nn.Module):
    """Inverted residual block without squeeze-excite: expand 1x1, depthwise kxk, project 1x1."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = _SameConv2d(cin, mid, 1)
            self._bn0 = nn.BatchNorm2d(mid, eps=_BN_EPS)
        self._depthwise_conv = _SameConv2d(mid, mid, kernel, stride=stride, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, eps=_BN_EPS)
        self._project_conv = _SameConv2d(mid, cout, 1)
        self._bn2 = nn.BatchNorm2d(cout, eps=_BN_EPS)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.has_expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite: the B0 block table scaled by ``width`` and ``depth`` (1.0, 1.0: Lite0; see
    :data:`LITE_SCALING`), stem (32) and head (1280) unscaled, ImageNet-1k head.

    ``forward_features`` returns the last convolution's maps (N, 1280, H/32, W/32) after ReLU6;
    ``forward`` returns class logits.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2, *, width: float = 1.0,
                 depth: float = 1.0) -> None:
        super().__init__()
        self._conv_stem = _SameConv2d(3, 32, 3, stride=2)
        self._bn0 = nn.BatchNorm2d(32, eps=_BN_EPS)
        blocks = []
        last = len(BLOCKS_B0) - 1
        for stage, (repeats, kernel, stride, expand, cin, cout) in enumerate(BLOCKS_B0):
            n = repeats if stage in (0, last) else round_repeats(repeats, depth)
            cin = 32 if stage == 0 else round_filters(cin, width)
            cout = round_filters(cout, width)
            for i in range(n):
                blocks.append(_MBConv(cin if i == 0 else cout, cout, kernel, stride if i == 0 else 1, expand))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = _SameConv2d(round_filters(BLOCKS_B0[-1][5], width), 1280, 1)
        self._bn1 = nn.BatchNorm2d(1280, eps=_BN_EPS)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(1280, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.forward_features(x).mean(dim=(2, 3))
        return self._fc(self._dropout(pooled))
