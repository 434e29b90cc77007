"""Fast style transfer with Magenta's networks through ONNX Runtime.

Two models:

* **arbitrary styles** (Ghiasi et al. 2017): a style-prediction network maps a 256x256 style image to a
  100-number style vector; a transformer network, conditioned on that vector through its normalisation layers,
  renders the content image. The int8 ONNX files have a fixed 384x384 input; the graph is fully convolutional
  (per-image instance normalisation, scale-based resizing), so the spatial input sizes are freed at load time
  and images are processed whole. Only images above ``max_pixels`` are cut into overlapping tiles, blended
  with feathered weights. Sizes are reflect-padded to a multiple of 8 and cropped back.
* **26 presets** (Dumoulin et al. 2017): one network with conditional instance normalisation and 26 learned
  styles, mixed by a weight vector.

Style vectors are cached per style image (keyed by a hash of its pixels) in memory and in
``artlens.weights.cache_dir()/style/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from artlens import weights as _weights
from artlens.errors import ConfigError
from artlens.files import atomic_write

__all__ = [
    "N_PRESETS",
    "FastStylizer",
    "get_stylizer",
    "preset_index",
    "preset_names",
]

#: The 26-style network has no published style names (it comes from TensorFlow's Android "stylize" demo,
#: whose styles are only numbered thumbnails), so presets are numbered: ``preset_00`` ... ``preset_25``.
N_PRESETS = 26
_STYLE_SIDE = 256  # the style-prediction network's input
_MULTIPLE_ARBITRARY = 8  # the transformer downsamples twice and pads by 4 before its first layer
_MULTIPLE_PRESET = 4


def preset_names() -> list[str]:
    """Names accepted as ``preset:NAME``: ``preset_00`` ... ``preset_25``."""
    return [f"preset_{i:02d}" for i in range(N_PRESETS)]


def preset_index(name: str) -> int:
    """Index of a preset given as ``preset_07``, ``07`` or ``7``."""
    text = name.strip().lower().removeprefix("preset:").removeprefix("preset_")
    if text.isascii() and text.isdigit() and len(text) <= 3 and int(text) < N_PRESETS:
        return int(text)
    raise ConfigError(f"unknown preset {name!r}; use preset_00 ... preset_{N_PRESETS - 1} "
                      "(artlens stylize --list-presets)")


def _square_crop(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    m = min(h, w)
    top, left = (h - m) // 2, (w - m) // 2
    crop = rgb[top : top + m, left : left + m]
    interp = cv2.INTER_AREA if m > side else cv2.INTER_CUBIC
    return cv2.resize(crop, (side, side), interpolation=interp)


def _as_float(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float32)


def _pad_to(rgb: np.ndarray, multiple: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        rgb = np.pad(rgb, ((0, ph), (0, pw), (0, 0)), mode="reflect")
    return rgb


def _feather(length: int, overlap: int, first: bool, last: bool) -> np.ndarray:
    """1-D blending weights of a tile: linear ramps over the overlaps, flat elsewhere."""
    w = np.ones(length, np.float32)
    ramp = np.linspace(0.0, 1.0, overlap + 2, dtype=np.float32)[1:-1]
    if not first and overlap:
        w[:overlap] = ramp
    if not last and overlap:
        w[-overlap:] = ramp[::-1]
    return w


def _tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


class FastStylizer:
    """The ONNX sessions of the fast method, loaded once (see :func:`get_stylizer`).

    Parameters
    ----------
    threads
        ONNX Runtime intra-op threads (default: torch's thread count).
    use_cuda
        Use the CUDA execution provider when ONNX Runtime has it.
    max_pixels
        Images up to this many pixels are stylised whole; larger ones in overlapping tiles.
    tile, overlap
        Tile side and overlap in pixels (multiples of 8).
    """

    def __init__(self, threads: int | None = None, use_cuda: bool = False, max_pixels: int = 4_500_000,
                 tile: int = 1024, overlap: int = 128) -> None:
        import onnxruntime as ort

        if threads is None:
            import torch

            threads = torch.get_num_threads()
        self._ort = ort
        self._options = ort.SessionOptions()
        self._options.intra_op_num_threads = max(1, threads)
        self._options.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        if use_cuda and has_cuda_provider():
            providers.insert(0, "CUDAExecutionProvider")
        self._providers = providers
        self.max_pixels = max_pixels
        self.tile = tile
        self.overlap = overlap
        self._sessions: dict[str, object] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    # -- sessions -------------------------------------------------------------------------------------------
    def _session(self, name: str):  # -> onnxruntime.InferenceSession
        with self._lock:
            if name not in self._sessions:
                path = _weights.resolve(name)
                model: str | bytes = str(path)
                if name == "magenta_arbitrary_transform":
                    model = _free_spatial_dims(path)
                self._sessions[name] = self._ort.InferenceSession(model, self._options,
                                                                  providers=self._providers)
            return self._sessions[name]

    # -- style vectors --------------------------------------------------------------------------------------
    def style_vector(self, rgb: np.ndarray, *, use_cache: bool = True) -> np.ndarray:
        """The 100-number style vector of an image (H, W, 3) uint8: centre square, 256x256.

        Cached in memory and on disk under ``cache_dir()/style/`` by a hash of the pixels.
        """
        crop = _square_crop(np.ascontiguousarray(rgb), _STYLE_SIDE)
        key = hashlib.sha256(crop.tobytes()).hexdigest()[:32]
        if use_cache and key in self._vectors:
            return self._vectors[key]
        path = _weights.cache_dir() / "style" / f"{key}.npy"
        vec = None
        if use_cache and path.is_file():
            with contextlib.suppress(OSError, ValueError):
                loaded = np.load(path, allow_pickle=False)
                if loaded.shape == (100,):
                    vec = loaded.astype(np.float32)
        if vec is None:
            session = self._session("magenta_arbitrary_predict")
            name = session.get_inputs()[0].name
            vec = np.asarray(session.run(None, {name: _as_float(crop)[None]})[0], np.float32).reshape(100)
            if use_cache:
                _save_atomic(path, vec)
        self._vectors[key] = vec
        return vec

    # -- rendering ------------------------------------------------------------------------------------------
    def render(self, content: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Stylise ``content`` (H, W, 3) with a style vector; float32 (H, W, 3) in [0, 1]."""
        session = self._session("magenta_arbitrary_transform")
        img_name, vec_name = (i.name for i in session.get_inputs())
        vec = np.asarray(vector, np.float32).reshape(1, 1, 1, 100)

        def run(x: np.ndarray) -> np.ndarray:
            h, w = x.shape[:2]
            out = session.run(None, {img_name: _pad_to(x, _MULTIPLE_ARBITRARY)[None], vec_name: vec})[0]
            return out[0, :h, :w]

        return self._whole_or_tiled(_as_float(content), run)

    def render_presets(self, content: np.ndarray, weights: Sequence[float]) -> np.ndarray:
        """Stylise with a mix of the 26 presets (``weights``, length 26); float32 (H, W, 3) in [0, 1]."""
        session = self._session("magenta_multistyle26")
        img_name, w_name = (i.name for i in session.get_inputs())
        mix = np.asarray(weights, np.float32).reshape(N_PRESETS)

        def run(x: np.ndarray) -> np.ndarray:
            h, w = x.shape[:2]
            chw = _pad_to(x, _MULTIPLE_PRESET).transpose(2, 0, 1)[None]
            out = session.run(None, {img_name: np.ascontiguousarray(chw), w_name: mix})[0]
            return out[0, :, :h, :w].transpose(1, 2, 0)

        return self._whole_or_tiled(_as_float(content), run)

    def _whole_or_tiled(self, x: np.ndarray, run) -> np.ndarray:
        h, w = x.shape[:2]
        if h * w <= self.max_pixels:
            return np.clip(run(x), 0.0, 1.0)
        return np.clip(tiled(x, run, self.tile, self.overlap), 0.0, 1.0)


def tiled(x: np.ndarray, run, tile: int, overlap: int) -> np.ndarray:
    """Apply ``run`` to overlapping tiles of ``x`` (H, W, C) and blend them with linear feathering.

    Each tile is extended by ``overlap`` pixels of context on every side; the weights of two neighbouring
    tiles ramp linearly across their shared band and sum to one, so no edge of a tile shows.
    """
    h, w = x.shape[:2]
    acc = np.zeros((h, w, 3), np.float32)
    norm = np.zeros((h, w, 1), np.float32)
    ys, xs = _tile_starts(h, tile, overlap), _tile_starts(w, tile, overlap)
    for iy, y0 in enumerate(ys):
        for ix, x0 in enumerate(xs):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            out = run(x[y0:y1, x0:x1])
            wy = _feather(y1 - y0, min(overlap, y1 - y0), iy == 0, iy == len(ys) - 1)
            wx = _feather(x1 - x0, min(overlap, x1 - x0), ix == 0, ix == len(xs) - 1)
            weight = (wy[:, None] * wx[None, :])[..., None]
            acc[y0:y1, x0:x1] += out * weight
            norm[y0:y1, x0:x1] += weight
    return acc / np.maximum(norm, 1e-6)


def _free_spatial_dims(path: Path) -> bytes:
    """The transformer graph with its image height and width made symbolic (it is fully convolutional)."""
    import onnx

    model = onnx.load(str(path))
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4 and dims[3].dim_value == 3:  # NHWC images
            dims[1].dim_param, dims[2].dim_param = "height", "width"
    del model.graph.value_info[:]  # stale static shapes of intermediate tensors
    return model.SerializeToString()


def _save_atomic(path: Path, vec: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, vec)

    with contextlib.suppress(OSError):  # a read-only cache only costs the next run a recomputation
        atomic_write(path, write)


_stylizers: dict[tuple[int, bool], FastStylizer] = {}
_stylizers_lock = threading.Lock()


def has_cuda_provider() -> bool:
    """Whether the installed ONNX Runtime can run the fast method on CUDA (``onnxruntime-gpu``)."""
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


def get_stylizer(threads: int | None = None, use_cuda: bool = False) -> FastStylizer:
    """A process-wide :class:`FastStylizer` (sessions load once)."""
    if threads is None:
        import torch

        threads = torch.get_num_threads()
    with _stylizers_lock:
        key = (threads, use_cuda)
        if key not in _stylizers:
            _stylizers[key] = FastStylizer(threads=threads, use_cuda=use_cuda)
        return _stylizers[key]
