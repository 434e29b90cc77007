"""The service answers similar-image requests in parallel threads over one cached backbone: the style
descriptor's forward hooks must never see another request's feature maps."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np


def test_concurrent_embeds_do_not_mix_feature_maps(photos):
    from artlens.search.embed import Embedder

    embedder = Embedder("mobilenet_v2", style=True, batch_size=1)
    names = ("astronaut", "coffee", "chelsea", "rocket")
    images = {name: cv2.resize(photos[name], (192, 160)) for name in names}
    alone = {name: embedder.embed([image]) for name, image in images.items()}

    def embed(name: str) -> tuple[str, np.ndarray, np.ndarray]:
        got = embedder.embed([images[name]] * 2)
        return name, got.content, got.style

    with ThreadPoolExecutor(4) as pool:
        for name, content, style in pool.map(embed, list(images) * 6):
            assert style.shape == (2, alone[name].style.shape[1])
            for row in range(2):
                np.testing.assert_allclose(content[row], alone[name].content[0], atol=1e-5)
                np.testing.assert_allclose(style[row], alone[name].style[0], atol=1e-5)
