"""Text recognition: PP-OCRv4's recogniser (SVTR-LCNet trained with CTC) run with ONNX Runtime.

It reads the regions the detector of :mod:`artlens.screening.textdetect` finds, so that a region counts as
text
only when characters can be read in it (a detector alone also fires on grass, water drops and foliage).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from artlens.errors import ArtlensError, WeightsError
from artlens.imageio import as_rgb_uint8

__all__ = ["HEIGHT", "MODEL", "Reading", "charset", "crop_quad", "ctc_greedy_decode", "read_crops",
           "read_regions"]

#: Model name in the weights registry.
MODEL = "ppocr_rec_v4"
#: Input height of the recogniser; PP-OCR's ``rec_img_shape`` is (3, 48, 320).
HEIGHT = 48
#: Narrowest batch width (PP-OCR pads every batch to at least 320 columns).
MIN_WIDTH = 320
#: Widest crop fed to the network (a 48 x 3200 strip is a 66-character line at PP-OCR's 8 px per step).
MAX_WIDTH = 3200
#: Crops per network call, as PP-OCR's ``rec_batch_num``.
BATCH = 6

@dataclass(frozen=True)
class Reading:
    """What the recogniser read in one crop: the string and its mean per-character probability."""

    text: str
    score: float

    @property
    def characters(self) -> int:
        """Letters, digits and ideographs read (punctuation and spaces not counted)."""
        return sum(ch.isalnum() for ch in self.text)


def _get_session(threads: int):  # -> onnxruntime.InferenceSession
    from artlens.models.onnxrt import weight_session

    return weight_session(MODEL, threads, "the text recogniser")


def charset(threads: int = 1) -> tuple[str, ...]:
    """The recogniser's output classes: CTC blank (index 0), the dictionary of its metadata, then a space.

    The dictionary ships inside the ONNX file (``metadata_props["character"]``, one character a line);
    PP-OCR's ``CTCLabelDecode`` appends the space (``use_space_char``) and puts the blank first.
    """
    return _charset(_get_session(threads))


@functools.lru_cache(maxsize=4)
def _charset(session) -> tuple[str, ...]:
    meta = session.get_modelmeta().custom_metadata_map
    if "character" not in meta:
        raise WeightsError(f"the text recogniser {MODEL} has no character dictionary in its metadata")
    return ("", *meta["character"].splitlines(), " ")


def crop_quad(rgb: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Cut a (possibly rotated) text region out of ``rgb`` and straighten it, as PP-OCR does.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 array
        The image.
    quad : (4, 2) array
        Corners in input pixels, clockwise from top-left along the text line.

    Returns
    -------
    (h, w, 3) uint8 array
        The region warped to an upright rectangle (cubic interpolation, replicated border); a crop at least
        1.5 times taller than wide is turned 90 degrees (a vertical line read left to right).
    """
    pts = np.asarray(quad, np.float32).reshape(4, 2)
    width = max(1, int(max(np.linalg.norm(pts[0] - pts[1]), np.linalg.norm(pts[2] - pts[3]))))
    height = max(1, int(max(np.linalg.norm(pts[0] - pts[3]), np.linalg.norm(pts[1] - pts[2]))))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    warp = cv2.getPerspectiveTransform(pts, target)
    crop = cv2.warpPerspective(rgb, warp, (width, height), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)
    if height >= 1.5 * width:
        crop = np.ascontiguousarray(np.rot90(crop))
    return crop


def _normalise(crop: np.ndarray, width: int) -> np.ndarray:
    """(3, 48, width) float32: the crop at height 48 (aspect kept), scaled to [-1, 1], zero-padded right.

    Channels are fed in BGR order: PaddleOCR trains and runs the recogniser on OpenCV's BGR arrays.
    """
    h, w = crop.shape[:2]
    resized_w = min(width, max(1, math.ceil(HEIGHT * w / h)))
    img = cv2.resize(crop, (resized_w, HEIGHT), interpolation=cv2.INTER_LINEAR)[..., ::-1]
    out = np.zeros((3, HEIGHT, width), np.float32)
    out[:, :, :resized_w] = img.transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0
    return out


def ctc_greedy_decode(probs: np.ndarray, classes: Sequence[str]) -> list[Reading]:
    """Best-path CTC decoding of per-step class probabilities.

    Parameters
    ----------
    probs : (N, T, C) array
        Softmax outputs, class 0 being the CTC blank.
    classes : sequence of C str
        The character of each class (``classes[0]``, the blank, is never emitted).

    Returns
    -------
    list of Reading
        Per item: the arg-max class of each step, repeats collapsed, blanks dropped, mapped to characters;
        the score is the mean of the kept steps' maximum probabilities (0 when nothing is kept).
    """
    probs = np.asarray(probs)
    if probs.ndim != 3 or probs.shape[2] != len(classes):
        raise ArtlensError(f"expected (N, T, {len(classes)}) probabilities, got {probs.shape}")
    best = probs.argmax(axis=2)
    peak = probs.max(axis=2)
    out = []
    for idx, p in zip(best, peak, strict=True):
        keep = np.ones(idx.shape, bool)
        keep[1:] = idx[1:] != idx[:-1]
        keep &= idx != 0
        text = "".join(classes[i] for i in idx[keep])
        out.append(Reading(text, round(float(p[keep].mean()), 4) if keep.any() else 0.0))
    return out


def read_crops(crops: Sequence[np.ndarray], threads: int = 1) -> list[Reading]:
    """Recognise the text of straightened line crops, in batches of :data:`BATCH` of similar aspect.

    Parameters
    ----------
    crops : sequence of (h, w, 3) uint8 arrays
        Text-line crops in RGB order (e.g. from :func:`crop_quad`).
    threads : int
        ONNX Runtime intra-op threads (one session is cached per thread count and process).

    Returns
    -------
    list of Reading
        One per crop, in the order given.

    Notes
    -----
    The recogniser is PP-OCRv4's mobile model, an SVTR-LCNet network (a PP-LCNet convolutional stem with
    SVTR global-mixing blocks) trained with a CTC loss, with the guided-training attention branch of
    PP-OCRv3 dropped for inference. Pre- and post-processing follow PP-OCR's: each crop is resized to height
    48 keeping its aspect ratio, scaled to [-1, 1] and right-padded with zeros to the widest crop of its
    batch (at least 320 columns; crops are sorted by aspect ratio so batches are similar); the output is
    decoded by :func:`ctc_greedy_decode` over the 6623-character dictionary stored in the model, with a
    space class appended.

    References
    ----------
    Li, C. et al. (2022). PP-OCRv3: More Attempts for the Improvement of Ultra Lightweight OCR System.
    arXiv:2206.03001.

    Du, Y. et al. (2022). SVTR: Scene Text Recognition with a Single Visual Model. IJCAI 2022, 884-890.

    Graves, A., Fernández, S., Gomez, F., Schmidhuber, J. (2006). Connectionist Temporal Classification:
    Labelling Unsegmented Sequence Data with Recurrent Neural Networks. ICML 2006, 369-376.
    """
    if not crops:
        return []
    session = _get_session(threads)
    classes = _charset(session)
    name = session.get_inputs()[0].name
    ratios = [c.shape[1] / max(1, c.shape[0]) for c in crops]
    order = np.argsort(ratios, kind="stable")
    out: list[Reading | None] = [None] * len(crops)
    for start in range(0, len(order), BATCH):
        chunk = order[start:start + BATCH]
        width = max(MIN_WIDTH, max(math.ceil(HEIGHT * ratios[i]) for i in chunk))
        width = min(MAX_WIDTH, width)
        batch = np.stack([_normalise(crops[i], width) for i in chunk])
        (probs,) = session.run(None, {name: batch})
        for i, reading in zip(chunk, ctc_greedy_decode(probs, classes), strict=True):
            out[i] = reading
    return [r for r in out if r is not None]


def read_regions(rgb: np.ndarray, quads: Sequence[np.ndarray], threads: int = 1) -> list[Reading]:
    """Recognise the text inside each quadrilateral of ``rgb`` (see :func:`crop_quad`, :func:`read_crops`)."""
    arr = as_rgb_uint8(rgb)
    return read_crops([crop_quad(arr, q) for q in quads], threads=threads)
