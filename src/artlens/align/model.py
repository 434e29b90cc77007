"""The alignment at run time: locked image tower + MiniLM text tower + the trained heads, one shared space.

:func:`load_align_model` gives the shipped heads (``models/default``, pinned by SHA-256 and checked on load)
or a folder written by ``artlens train align``. Method: LiT, Zhai et al., "LiT: Zero-Shot Transfer with
Locked-image text Tuning", CVPR 2022.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from artlens.align.conse import conse_vectors, joint
from artlens.align.heads import CONFIG_FILE, WEIGHTS_FILE, AlignHeads, calibrated, load_heads
from artlens.align.image import embed_image_files, image_features
from artlens.align.text import get_text_encoder
from artlens.models.backbones import Backbone, get_backbone
from artlens.training.progress import Progress
from artlens.weights import sha256_file, verify_pinned

__all__ = ["DEFAULT_MODEL_DIR", "DEFAULT_MODEL_SHA256", "PROMPTS", "AlignModel", "load_align_model"]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"

#: SHA-256 of the shipped heads' files (``artlens train align`` reproduces them).
DEFAULT_MODEL_SHA256 = {
    CONFIG_FILE: "4752bdffba89a90520661351cd6753d29b41b95905d93d7d156d39612b4aa72b",
    WEIGHTS_FILE: "6cbaae2d05e35b9a296f8c8a7f5d2d7adbdb9b4ce422c6d970a09a7f56b6772f",
}

#: Prompt templates whose mean embedding stands for a label (prompt ensembling, Radford et al., ICML 2021).
PROMPTS: tuple[str, ...] = ("{}", "a photo of a {}", "a drawing of a {}", "a painting of a {}",
                            "clip art of a {}", "a product photo of a {}")


class AlignModel:
    """Embeds images and texts into the aligned space; similarities are cosines of unit vectors."""

    def __init__(self, heads: AlignHeads, fingerprint: str = "") -> None:
        self.heads = heads.eval()
        self.config = heads.config
        self.fingerprint = fingerprint  # SHA-256 of the heads' weights: stored vectors name their heads

    @property
    def backbone(self) -> Backbone:
        """The locked image backbone (loaded once per process; with its ImageNet classifier for ConSE)."""
        return get_backbone(self.config.backbone, with_classifier=self.config.imagenet_weight > 0)

    def imagenet_probabilities(self, feats: np.ndarray) -> np.ndarray:
        """(N, 1000) ImageNet class probabilities of the backbone's classifier, from image-tower features."""
        backbone = self.backbone
        pooled = torch.from_numpy(np.asarray(feats, np.float32)[:, :backbone.spec.feature_dim])
        with torch.inference_mode():
            return torch.softmax(backbone.model.classifier(pooled), 1).numpy()

    def _image(self, feats: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            aligned = self.heads.embed_image(torch.from_numpy(np.asarray(feats, np.float32))).numpy()
        weight = self.config.imagenet_weight
        if weight <= 0:
            return aligned
        second = conse_vectors(self.imagenet_probabilities(feats), self.heads.imagenet_names.numpy(),
                               self.config.imagenet_top)
        return joint(aligned, second, weight)

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, E) unit vectors for RGB images."""
        return self._image(image_features(images, self.backbone))

    def embed_features(self, feats: np.ndarray) -> np.ndarray:
        """(N, E) unit vectors for image-tower features already computed (:mod:`artlens.align.image`)."""
        return self._image(feats)

    def embed_files(self, paths: Sequence[str | Path], progress: Progress | None = None
                    ) -> tuple[np.ndarray, list[int], list[dict]]:
        """``(embeddings, kept, skipped)`` for image files; unreadable files are reported, not raised."""
        feats, kept, skipped = embed_image_files(paths, self.backbone, progress=progress)
        return self._image(feats), kept, skipped

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(N, E) unit vectors for texts (E: the heads' dimension, plus the text tower's with ConSE)."""
        vecs = get_text_encoder().encode(list(texts))
        with torch.inference_mode():
            aligned = self.heads.embed_text(torch.from_numpy(vecs)).numpy()
        return joint(aligned, vecs, self.config.imagenet_weight)

    def embed_labels(self, labels: Sequence[str], prompts: Sequence[str] = PROMPTS) -> np.ndarray:
        """(L, E) unit vectors: each label's mean over the prompt templates, renormalised."""
        texts = [p.format(label) for label in labels for p in prompts]
        vecs = self.embed_texts(texts).reshape(len(labels), len(prompts), -1).mean(1)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)

    def tag_probability(self, embeddings: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """(N, T) calibrated probability that each text applies to each of (N, E) image embeddings; the
        texts are embedded plain, as the calibration was fitted (tags, titles)."""
        return self.probability(np.asarray(embeddings, np.float32) @ self.embed_texts(list(texts)).T)

    def probability(self, cosine: np.ndarray) -> np.ndarray:
        """Calibrated probability that a text applies to an image, from their cosine."""
        return calibrated(cosine, self.config.calibration)

    @property
    def temperature(self) -> float:
        """The learned softmax temperature."""
        return float(1.0 / self.heads.logit_scale.detach().exp())


@functools.lru_cache(maxsize=4)
def _load(folder: str, shipped: bool) -> AlignModel:
    if shipped:
        verify_pinned(Path(folder), DEFAULT_MODEL_SHA256, "the shipped alignment heads")
    return AlignModel(load_heads(Path(folder)), sha256_file(Path(folder) / WEIGHTS_FILE))


def load_align_model(folder: str | Path | None = None) -> AlignModel:
    """The shipped alignment (``folder`` None) or heads trained with ``artlens train align``."""
    if folder is None:
        return _load(str(DEFAULT_MODEL_DIR), True)
    return _load(str(Path(folder).resolve()), False)
