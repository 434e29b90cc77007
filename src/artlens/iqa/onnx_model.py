"""Run an exported quality model (``model.onnx``, :mod:`artlens.iqa.export`) with ONNX Runtime.

:class:`OnnxQualityModel` scores images like :meth:`artlens.iqa.model.QualityModel.score` without
PyTorch's forward pass: the same preprocessing (:func:`artlens.iqa.model.prepare_image`) and NSS
descriptors (:func:`artlens.iqa.descriptors.describe`) feed one ONNX Runtime session that holds the trunk,
the pooling, the heads, the fusion and the calibration.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from artlens.errors import ArtlensError, ConfigError
from artlens.files import sha256_file
from artlens.iqa.config import load_config
from artlens.iqa.files import ONNX_FILE, WEIGHTS_FILE
from artlens.iqa.preprocess import normaliser, prepare_image

__all__ = ["OnnxQualityModel"]


class OnnxQualityModel:
    """An exported quality model folder, scoring RGB images 0-100 (higher is better) on ONNX Runtime.

    Parameters
    ----------
    folder
        A quality model folder with ``model.onnx`` written by ``artlens export MODEL --onnx``.
    threads
        ONNX Runtime's intra-op threads (default: as many as PyTorch uses).

    Raises
    ------
    ConfigError
        No export, or one made from other weights or another config than the folder holds now (export
        again), or ONNX Runtime cannot load it.
    """

    def __init__(self, folder: str | Path, *, threads: int | None = None) -> None:
        from artlens.iqa.config import config_fingerprint

        self.folder = Path(folder)
        self.config = load_config(self.folder)
        record = self.config.onnx
        path = self.folder / ONNX_FILE
        if not record or not path.is_file():
            raise ConfigError(f"{self.folder}: no ONNX export; run `artlens export {self.folder} --onnx` "
                              f"first")
        if record.get("weights_sha256") != sha256_file(self.folder / WEIGHTS_FILE) \
                or record.get("config_sha256") != config_fingerprint(self.config):
            raise ConfigError(f"{path}: exported from other weights or another config than the folder holds; "
                              f"export again with `artlens export {self.folder} --onnx`")
        from artlens.models.onnxrt import cpu_session

        try:
            self.session = cpu_session(path, threads)
        except Exception as exc:  # ONNX Runtime raises its own exception types
            raise ConfigError(f"{path}: ONNX Runtime cannot load it: {exc}") from None
        self.inputs: list[str] = list(record["inputs"])
        self._scale, self._offset = normaliser(record["mean"], record["std"])

    def __repr__(self) -> str:
        return f"OnnxQualityModel({str(self.folder)!r}, sizes={self.config.sizes})"

    def outputs(self, rgbs: Sequence[np.ndarray] | np.ndarray, batch_size: int = 1, *,
                descriptors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(raw, quality)`` of each image: the graph's two outputs, float64.

        Parameters
        ----------
        rgbs
            RGB images (H, W, 3) uint8 of any sizes (grey and RGBA are accepted), or an (N, H, W, 3) array.
        batch_size
            Images per run; images are batched only with others of the same padded shapes.
        descriptors
            The images' :func:`artlens.iqa.descriptors.describe`, when already computed (a model with a
            descriptor head computes them otherwise).

        Returns
        -------
        tuple
            ``raw`` (N,) or (N, K) class logits, as :meth:`QualityModel.raw_scores`; ``quality`` (N,) 0-100,
            as :meth:`QualityModel.score`.
        """
        from artlens.imageio import as_rgb_uint8

        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        c = self.config
        images = [as_rgb_uint8(im) for im in rgbs]
        n = len(images)
        if c.descriptors and descriptors is None:
            from artlens.iqa.descriptors import describe

            descriptors = describe(images, c.descriptors)
        if c.descriptors:
            descriptors = np.asarray(descriptors, np.float32)
            if descriptors.shape != (n, len(c.descriptors)):
                raise ArtlensError(f"this model needs descriptors ({n}, {len(c.descriptors)}), "
                                   f"got {descriptors.shape}")
        raw = np.zeros((n, c.n_outputs) if c.task == "classes" else (n,), np.float64)
        quality = np.zeros(n, np.float64)
        prepared = [[prepare_image(im, size, self._scale, self._offset)[0] for size in c.sizes]
                    for im in images]
        groups: dict[tuple[tuple[int, ...], ...], list[int]] = {}
        for i, arrays in enumerate(prepared):
            groups.setdefault(tuple(a.shape for a in arrays), []).append(i)
        for idx in groups.values():
            for start in range(0, len(idx), batch_size):
                chunk = idx[start:start + batch_size]
                feed = {name: np.stack([prepared[i][s] for i in chunk])
                        for s, name in enumerate(self.inputs[:len(c.sizes)])}
                if c.descriptors:
                    feed["descriptors"] = np.ascontiguousarray(descriptors[chunk])
                r, q = self.session.run(["raw", "quality"], feed)
                raw[chunk], quality[chunk] = r, q
        return raw, quality

    def raw_scores(self, rgbs: Sequence[np.ndarray] | np.ndarray, batch_size: int = 1, *,
                   descriptors: np.ndarray | None = None) -> np.ndarray:
        """The fused raw score (N,), or class logits (N, K), of each image (see :meth:`outputs`)."""
        return self.outputs(rgbs, batch_size, descriptors=descriptors)[0]

    def score(self, rgbs: Sequence[np.ndarray] | np.ndarray, batch_size: int = 1, *,
              descriptors: np.ndarray | None = None) -> np.ndarray:
        """Quality 0-100 (higher is better) of each image, float64 (N,), like :meth:`QualityModel.score`."""
        return self.outputs(rgbs, batch_size, descriptors=descriptors)[1]
