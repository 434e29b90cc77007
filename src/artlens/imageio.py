"""Safe image loading, used by every artlens command: any common file in, an upright sRGB ``uint8`` array out.

One rule for all inputs: the file is read once into memory (never written), its size is checked against the
pixel limit from the header *before* any pixel is decoded, and every failure becomes an
:class:`~artlens.errors.ImageLoadError` naming the file and the reason in one line. Batch callers catch that
error, report it and go on with the next file.

What :func:`load_image` does to the pixels, in order: first frame only (GIF, APNG, multi-page TIFF), 16- and
32-bit samples scaled to 8 bits, an embedded ICC profile converted to sRGB (CMYK files included), palette and
grey images expanded to RGB, transparency composited on white (the way marketplaces show a transparent
product shot), and the EXIF orientation applied so the array is upright as a viewer shows it.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import struct
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from artlens.errors import ImageArrayError, ImageLoadError
from artlens.regular_files import NotRegularFileError, read_regular

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_SUFFIXES",
    "LoadedImage",
    "as_grey",
    "as_rgb_uint8",
    "collect_inputs",
    "header_size",
    "iter_image_files",
    "load_image",
    "load_image_bytes",
    "sniff_format",
]

#: Images above this many pixels are refused before decoding (a 50 MP frame decodes to 150 MB of RGB).
DEFAULT_MAX_PIXELS = 50_000_000

#: File suffixes picked up when a folder is walked (explicitly named files are tried whatever their suffix).
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".bmp", ".dib", ".gif"}
)

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"II+\x00", 0, "TIFF"),  # BigTIFF
    (b"MM\x00+", 0, "TIFF"),
    (b"BM", 0, "BMP"),
)

_SRGB = ImageCms.createProfile("sRGB")


def as_rgb_uint8(image: np.ndarray, *, min_side: int = 1) -> np.ndarray:
    """``image`` in the one array convention of artlens: C-contiguous (H, W, 3) uint8 RGB.

    Grey (H, W) and (H, W, 1) arrays are repeated to three channels and an alpha channel is dropped; float
    arrays are read as [0, 1], rounded to 0-255 (NaN as 0, clipped). A uint8 (H, W, 3) array comes back as
    is when already contiguous (no copy).

    Raises
    ------
    ImageArrayError
        Another shape or dtype (uint16, int, bool: scale them yourself), or a side shorter than ``min_side``.
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ImageArrayError(f"expected an RGB image (H, W, 3), got shape {arr.shape}")
    if arr.shape[0] < min_side or arr.shape[1] < min_side:
        raise ImageArrayError(f"expected an image of at least {min_side}x{min_side} pixels, "
                              f"got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        arr = np.clip(np.rint(np.nan_to_num(arr) * 255.0), 0, 255).astype(np.uint8)
    elif arr.dtype != np.uint8:
        raise ImageArrayError(f"expected uint8 (or float in [0, 1]) pixels, got {arr.dtype}")
    return np.ascontiguousarray(arr)


def as_grey(image: np.ndarray, *, min_side: int = 1) -> np.ndarray:
    """(H, W) uint8 luma of ``image`` (any input :func:`as_rgb_uint8` takes), with the ITU-R BT.601 weights
    of OpenCV's ``COLOR_RGB2GRAY``; a (H, W) uint8 array comes back as is."""
    arr = np.asarray(image)
    if arr.ndim == 2 and arr.dtype == np.uint8 and min(arr.shape) >= min_side:
        return np.ascontiguousarray(arr)
    return cv2.cvtColor(as_rgb_uint8(arr, min_side=min_side), cv2.COLOR_RGB2GRAY)


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image and what was learnt about its file on the way."""

    path: str
    rgb: np.ndarray  # H x W x 3, uint8, sRGB, upright
    format: str  # "JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF", ...
    mode: str  # the file's Pillow mode before conversion ("RGB", "CMYK", "P", "I;16", ...)
    bit_depth: int  # bits per sample in the file
    has_alpha: bool  # the file had transparency (composited on white in ``rgb``)
    file_size: int  # bytes
    sha256: str  # of the file's bytes
    n_frames: int = 1

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def sniff_format(data: bytes) -> str | None:
    """Image format from a file's first bytes (``"JPEG"``, ``"PNG"``, ``"WEBP"``, ...), or ``None``.

    Used where the name of a file cannot be trusted (uploads): the content decides, not the suffix.
    """
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for magic, offset, name in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return name
    return None


def load_image(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Read and decode one image file; see the module docstring for what happens to the pixels.

    Raises
    ------
    ImageLoadError
        The file is missing, a folder, a named pipe or device (never waited on), unreadable, empty, not an
        image, truncated, corrupt, or larger than
        ``max_pixels``; the message names the file and the reason.
    """
    name = str(path)
    try:
        data = read_regular(path)
    except FileNotFoundError:
        raise ImageLoadError(name, "no such file") from None
    except NotRegularFileError as exc:
        reason = "is a folder, not an image file" if exc.kind == "a folder" else exc.strerror
        raise ImageLoadError(name, reason) from None
    except PermissionError:
        raise ImageLoadError(name, "permission denied") from None
    except OSError as exc:
        raise ImageLoadError(name, f"cannot be read ({exc.strerror or exc})") from None
    return load_image_bytes(data, name, max_pixels=max_pixels)


def load_image_bytes(data: bytes, name: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Decode an image held in memory (an upload); ``name`` is used in error messages and as the path."""
    if max_pixels <= 0:
        raise ValueError("max_pixels must be positive")
    if not data:
        raise ImageLoadError(name, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            _raise_pillow_limit(max_pixels)
            with Image.open(io.BytesIO(data)) as im:
                _check_pixels(name, im.size, max_pixels)
                im.seek(0)
                n_frames = int(getattr(im, "n_frames", 1) or 1)
                fmt = (im.format or sniff_format(data) or "unknown").upper()
                mode = im.mode
                bit_depth = _bit_depth(im, data)
                rgb, has_alpha = _to_rgb(im)
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError(name, _not_an_image_reason(data)) from None
    except Image.DecompressionBombError:
        _check_pixels(name, header_size(data), max_pixels)  # Pillow's own guard fired first: same message
        raise ImageLoadError(name, "too many pixels (possible decompression bomb)") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise ImageLoadError(name, _decode_reason(exc)) from None
    except MemoryError:
        raise ImageLoadError(name, "not enough memory to decode it") from None
    return LoadedImage(
        path=name,
        rgb=rgb,
        format="JPEG" if fmt == "MPO" else fmt,
        mode=mode,
        bit_depth=bit_depth,
        has_alpha=has_alpha,
        file_size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        n_frames=n_frames,
    )


# -- decoding ------------------------------------------------------------------------------------------------

def _raise_pillow_limit(max_pixels: int) -> None:
    """Let our own limit decide: Pillow refuses anything above twice its ``MAX_IMAGE_PIXELS`` at open time."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and max_pixels > limit:
        Image.MAX_IMAGE_PIXELS = max_pixels


def _check_pixels(name: str, size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageLoadError(name, f"corrupt header (size {width}x{height})")
    if width * height > max_pixels:
        raise ImageLoadError(
            name,
            f"image is {width}x{height} ({width * height / 1e6:.1f} MP), above the {max_pixels / 1e6:.1f} MP "
            "limit (possible decompression bomb; raise it with --max-pixels if the file is trusted)",
        )


def _bit_depth(im: Image.Image, data: bytes) -> int:
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return 16
    if im.mode in ("I", "F"):
        return 32
    if im.mode == "1":
        return 1
    if im.format == "PNG" and len(data) > 24:
        return int(data[24])  # IHDR bit depth
    if im.format == "TIFF":
        bits = getattr(im, "tag_v2", {}).get(258)
        if bits:
            return int(bits[0] if isinstance(bits, tuple) else bits)
    return 8


def _to_rgb(im: Image.Image) -> tuple[np.ndarray, bool]:
    """Decode the current frame to upright sRGB uint8; returns the array and whether it had transparency."""
    im.load()  # decode now so truncation and corruption surface here
    im = ImageOps.exif_transpose(im)
    im = _to_srgb(im)
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _high_depth_grey(np.asarray(im)), False
    transparent = mode in ("RGBA", "LA", "PA", "La", "RGBa")
    if transparent or (mode in ("P", "L", "RGB") and "transparency" in im.info):
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32)
        alpha = rgba[..., 3:4] / 255.0
        rgb = rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)
        return np.ascontiguousarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8)), bool((alpha < 1).any())
    return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8)), False


def _to_srgb(im: Image.Image) -> Image.Image:
    """Convert through the embedded ICC profile when there is one (wide-gamut RGB, CMYK); else leave as is."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA", "CMYK", "L", "LA"):
        return im
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out_mode = "RGBA" if im.mode in ("RGBA", "LA") else "RGB"
        if im.mode == "LA":
            im = im.convert("RGBA")
            out_mode = "RGBA"
        converted = ImageCms.profileToProfile(im, source, _SRGB, outputMode=out_mode)
        return converted if converted is not None else im
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im  # a broken or mismatched profile: the pixels are still usable as they are


def _high_depth_grey(values: np.ndarray) -> np.ndarray:
    """16/32-bit integer or float grey samples to 8-bit RGB, scaled by the range the values can take."""
    values = values.astype(np.float64)
    finite = values[np.isfinite(values)]
    peak = float(finite.max()) if finite.size else 0.0
    if values.dtype.kind == "f" and peak <= 1.0:
        scale = 255.0  # float images in [0, 1]
    elif peak <= 255:
        scale = 1.0
    elif peak <= 65535:
        scale = 255.0 / 65535.0
    else:
        scale = 255.0 / peak
    grey = np.clip(np.nan_to_num(values) * scale + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))


_PILLOW_LIMIT_LOCK = threading.Lock()


def header_size(source: bytes | BinaryIO) -> tuple[int, int]:
    """Width and height from an image's header, nothing decoded, whatever its size (Pillow's own
    decompression-bomb guard is off for this read: the caller compares the size with its limit).

    Raises whatever :func:`PIL.Image.open` raises for a file it cannot identify.
    """
    fp = io.BytesIO(source) if isinstance(source, bytes) else source
    with _PILLOW_LIMIT_LOCK:
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(fp) as im:  # reads the header only
                    return im.size
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def _not_an_image_reason(data: bytes) -> str:
    known = sniff_format(data)
    if known:
        return f"corrupt {known} file (header cannot be parsed)"
    head = data[:64].lstrip()
    if head[:1] in (b"{", b"[") or head[:5].lower() in (b"<!doc", b"<html", b"<?xml"):
        return "not an image (looks like a text/HTML/JSON document)"
    if head[:4] == b"%PDF":
        return "not an image (a PDF document)"
    return "not an image (unrecognised file format)"


def _decode_reason(exc: BaseException) -> str:
    text = str(exc).strip().rstrip(".")
    lowered = text.lower()
    if "truncated" in lowered or isinstance(exc, EOFError) or "premature end" in lowered:
        return "truncated file (image data ends early)"
    if "cannot identify" in lowered:
        return "not an image (unrecognised file format)"
    first_line = text.splitlines()[0] if text else type(exc).__name__
    return f"corrupt image data ({first_line})"


# -- finding inputs ------------------------------------------------------------------------------------------

def iter_image_files(paths: Iterable[str | os.PathLike[str]],
                     errors: list[ImageLoadError] | None = None) -> Iterator[Path]:
    """Image files under ``paths``: folders walked recursively in sorted order, files passed through.

    Hidden files and folders (leading ``.``) are skipped while walking; symlinked folders are followed once
    each, so a symlink loop cannot make the walk run forever. A file named explicitly is yielded whatever its
    suffix (the decoder decides); paths that do not exist are skipped (see :func:`collect_inputs`). Folders
    that cannot be read and symlink loops are appended to ``errors`` when it is given (else left out).
    """
    seen: set[Path] = set()
    found_errors = errors if errors is not None else []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path, seen, found_errors)
        elif path.exists() and path not in seen:
            seen.add(path)
            yield path


def _walk(root: Path, seen: set[Path], errors: list[ImageLoadError]) -> Iterator[Path]:
    """Image files below ``root`` sorted by path; each real folder is entered once.

    A link back to a folder above it (a loop) and a folder that cannot be listed are errors; a folder
    reached a second time through another link is left out quietly (its files are already there).
    """
    visited: set[tuple[int, int]] = set()
    found: list[Path] = []
    stack: list[tuple[Path, frozenset[tuple[int, int]]]] = [(root, frozenset())]
    while stack:
        folder, above = stack.pop()
        try:
            info = folder.stat()
            key = (info.st_dev, info.st_ino)
            if key in above:
                errors.append(ImageLoadError(folder, "symlink loop (links back to a folder above it)"))
                continue
            if key in visited:
                continue  # a folder reached twice through links
            visited.add(key)
            entries = list(os.scandir(folder))
        except OSError as exc:
            errors.append(ImageLoadError(folder, f"folder cannot be read ({_os_reason(exc)})"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    stack.append((Path(entry.path), above | {key}))
                elif Path(entry.name).suffix.lower() in IMAGE_SUFFIXES:
                    found.append(Path(entry.path))
            except OSError as exc:  # a link to itself, a name the file system refuses ...
                errors.append(ImageLoadError(entry.path, f"cannot be read ({_os_reason(exc)})"))
    for file in sorted(found):
        if file not in seen:
            seen.add(file)
            yield file


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    return (exc.strerror or type(exc).__name__).lower()


def collect_inputs(paths: Sequence[str | os.PathLike[str]]) -> tuple[list[Path], list[ImageLoadError]]:
    """Files to process, and one :class:`ImageLoadError` per named path that does not exist, folder that
    cannot be read and symlink loop met on the way."""
    errors = [ImageLoadError(p, "no such file or folder") for p in paths if not Path(p).exists()]
    files = list(iter_image_files((p for p in paths if Path(p).exists()), errors))
    return files, errors

