"""Does reading detected text regions tell rendered text from texture? The measurements behind the thresholds.

Photos: scikit-image's bundled photos and the Debian wallpapers in ``.data/`` (``mate-backgrounds``,
``plasma-workspace-wallpapers``: one image per wallpaper, no screenshots; ``lomiri-wallpapers-*``). Photos
that ``.data/pristine/manifest.csv`` puts in its ``heldout`` or ``screening`` split (those of
``benchmarks/screening_truth.py``) form the **check** set, all others the **tune** set the thresholds were
chosen on. Each photo is screened as it is (full size) and at 1080 x 800, and 1080 x 800 copies get
rendered text: banners, outlined captions, plain lettering, semi-transparent (and rotated) watermarks, small
corner credits, in OpenCV's Hershey fonts, Pillow's bundled font and DejaVu (when installed), 3-10 % of the
frame's short side high (2 % for corner credits).

Every detected region is read by the recogniser (``detect_text`` with confirmation thresholds of 0) and the
table gives, per (least characters, least mean character probability): the share of rendered-text images
where a box meeting the lettering is confirmed, and the share of text-free photos (and of full-size photos)
with any confirmed box (wallpapers with lettering of their own, :data:`LETTERED`, are listed apart), for the
tune and the check set; the first row (no confirmation) is detection alone.

    .venv/bin/python benchmarks/text_confirmation.py [--json out.json] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from artlens.screening.textdetect import DetectorSettings, TextBox, detect_text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".data"
MANIFEST = DATA / "pristine/manifest.csv"
SKIMAGE = ("astronaut", "coffee", "chelsea", "rocket", "coins", "camera", "grass", "gravel", "brick",
           "hubble_deep_field", "retina", "immunohistochemistry", "moon", "cell",
           "clock")
WORDS = ("SALE -50%", "Free shipping", "NEW", "Best price $19.99", "Limited offer", "© Studio Nord 2024",
         "www.myshop.com", "SAMPLE", "Only today", "2 for 1", "Handmade", "Bestseller", "Made in Italy",
         "-30%", "Gift idea", "PREVIEW", "Summer collection", "Tel. 0800 123 456")
HERSHEY = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
           cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN)
DEJAVU = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf",
          "DejaVuSerif-Bold.ttf")
STYLES = ("banner", "caption", "plain", "watermark", "rotated", "corner")
SIZE = (1080, 800)
HELD_OUT = ("heldout", "screening")
#: Wallpapers that carry lettering of their own: reported apart, not as text-free photos.
LETTERED = ("GreenTraditional.jpg",)
CHARS = (1, 2, 3)
SCORES = (0.0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def _split_of() -> dict[str, str]:
    if not MANIFEST.is_file():
        return {}
    with MANIFEST.open(newline="") as handle:
        return {str(Path(r["path"]).resolve()): r["split"] for r in csv.DictReader(handle)}


def photo_files() -> list[Path]:
    """The wallpapers: every lomiri and mate JPEG/PNG, the largest JPEG/PNG of each plasma wallpaper."""
    files: list[Path] = []
    for root in [*sorted(DATA.glob("lomiri-wallpapers-*")), DATA / "mate-backgrounds"]:
        files += sorted(p for p in root.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    plasma = DATA / "plasma-workspace-wallpapers/usr/share/wallpapers"
    if plasma.is_dir():
        for folder in sorted(p for p in plasma.iterdir() if p.is_dir()):
            images = [p for p in (folder / "contents" / "images").glob("*")
                      if p.suffix.lower() in (".jpg", ".png")]
            if images:
                files.append(max(images, key=lambda p: p.stat().st_size))
    return [f for f in files if "screenshot" not in f.name]


def load_photos(limit: int | None) -> list[tuple[str, str, np.ndarray]]:
    """(name, "tune" or "check", RGB array) for every photo."""
    from skimage import data

    split = _split_of()
    out = []
    for name in SKIMAGE:
        img = getattr(data, name)()
        img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]
        check = split.get(str((DATA / "pristine/skimage" / f"{name}.png").resolve())) in HELD_OUT
        out.append((f"skimage/{name}", "check" if check else "tune", np.ascontiguousarray(img)))
    for path in photo_files():
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            continue
        check = split.get(str(path.resolve())) in HELD_OUT
        out.append((str(path.relative_to(DATA)), "check" if check else "tune", bgr[..., ::-1].copy()))
    return out[:limit] if limit else out


def _cover(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = max(width / w, height / h)
    resized = cv2.resize(rgb, (max(width, round(w * scale)), max(height, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
    y0, x0 = (resized.shape[0] - height) // 2, (resized.shape[1] - width) // 2
    return np.ascontiguousarray(resized[y0:y0 + height, x0:x0 + width])


def _fonts() -> list[object]:
    fonts: list[object] = [*HERSHEY, "pillow"]
    for name in DEJAVU:
        for folder in (Path("/usr/share/fonts/truetype/dejavu"),):
            if (folder / name).is_file():
                fonts.append(str(folder / name))
    return fonts


def _text_layer(text: str, font: object, height_px: int) -> np.ndarray:
    """The lettering as an 8-bit coverage mask, tightly cropped (cap height about ``height_px``)."""
    if isinstance(font, int):
        scale = cv2.getFontScaleFromHeight(font, height_px, max(1, height_px // 12))
        thick = max(1, height_px // 12)
        (tw, th), base = cv2.getTextSize(text, font, scale, thick)
        layer = np.zeros((th + base + 2 * thick + 4, tw + 2 * thick + 4), np.uint8)
        cv2.putText(layer, text, (thick + 2, th + thick + 2), font, scale, 255, thick, cv2.LINE_AA)
    else:
        size = max(8, round(height_px * 1.35))
        pil_font = (ImageFont.load_default(size=size) if font == "pillow"
                    else ImageFont.truetype(str(font), size))
        x0, y0, x1, y1 = pil_font.getbbox(text)
        canvas = Image.new("L", (x1 - x0 + 8, y1 - y0 + 8), 0)
        ImageDraw.Draw(canvas).text((4 - x0, 4 - y0), text, fill=255, font=pil_font)
        layer = np.asarray(canvas)
    ys, xs = np.nonzero(layer)
    return layer[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def render(photo: np.ndarray, style: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    """``photo`` (1080 x 800) with lettering in ``style``: (image, mask of the lettering, the text)."""
    text = str(rng.choice(WORDS))
    fonts = _fonts()
    font = fonts[int(rng.integers(len(fonts)))]
    short = min(SIZE[1], SIZE[0])
    height_px = round(short * (0.02 if style == "corner" else rng.uniform(0.03, 0.10)))
    layer = _text_layer(text, font, height_px)
    if style == "rotated":
        angle = float(rng.choice([-30.0, 30.0]))
        h, w = layer.shape
        rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        cos, sin = abs(rot[0, 0]), abs(rot[0, 1])
        nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
        rot[0, 2] += nw / 2 - w / 2
        rot[1, 2] += nh / 2 - h / 2
        layer = cv2.warpAffine(layer, rot, (nw, nh))
    if layer.shape[1] > SIZE[0] - 40:  # too wide: shrink to fit
        f = (SIZE[0] - 40) / layer.shape[1]
        layer = cv2.resize(layer, (SIZE[0] - 40, max(1, round(layer.shape[0] * f))),
                           interpolation=cv2.INTER_AREA)
    img = photo.astype(np.float32)
    lh, lw = layer.shape
    if style == "corner":
        x0, y0 = SIZE[0] - lw - 20, SIZE[1] - lh - 16
    else:
        x0 = int(rng.integers(20, SIZE[0] - lw - 19))
        y0 = int(rng.integers(20, SIZE[1] - lh - 19))
    a = layer.astype(np.float32)[..., None] / 255.0
    region = img[y0:y0 + lh, x0:x0 + lw]
    if style == "banner":
        pad = max(6, lh // 3)
        colour = rng.integers(0, 256, 3).astype(np.float32)
        img[max(0, y0 - pad):y0 + lh + pad, max(0, x0 - 2 * pad):x0 + lw + 2 * pad] = colour
        region = img[y0:y0 + lh, x0:x0 + lw]
        ink = np.full(3, 255.0 if colour.mean() < 128 else 0.0, np.float32)
        region[:] = region * (1 - a) + ink * a
    elif style == "caption":
        outline = cv2.dilate(layer, np.ones((5, 5), np.uint8))[..., None].astype(np.float32) / 255.0
        region[:] = region * (1 - outline)
        region[:] = region * (1 - a) + 255.0 * a
    elif style == "plain":
        ink = 255.0 if region.mean() < 128 else 0.0
        region[:] = region * (1 - a) + ink * a
    else:  # watermark, rotated, corner: semi-transparent white
        alpha = 0.7 if style == "corner" else float(rng.uniform(0.35, 0.6))
        region[:] = region * (1 - a * alpha) + 255.0 * a * alpha
    mask = np.zeros((SIZE[1], SIZE[0]), bool)
    mask[y0:y0 + lh, x0:x0 + lw] = layer > 64
    return np.clip(img, 0, 255).astype(np.uint8), mask, text


@dataclass
class Region:
    chars: int
    score: float
    on_text: bool
    text: str


def _regions(img: np.ndarray, mask: np.ndarray | None) -> list[Region]:
    boxes: list[TextBox] = detect_text(img, settings=DetectorSettings(min_characters=0, min_text_score=0.0))
    if mask is not None:  # the lettering's bounding box
        ys, xs = np.nonzero(mask)
        lx0, ly0, lx1, ly1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    out = []
    for b in boxes:
        on = False
        if mask is not None:  # the box meets the lettering's box
            on = bool(min(b.x1, lx1) > max(b.x0, lx0) and min(b.y1, ly1) > max(b.y0, ly0))
        out.append(Region(sum(ch.isalnum() for ch in b.text), float(b.text_score or 0.0), on, b.text))
    return out


def _confirmed(r: Region, chars: int | None, score: float) -> bool:
    return chars is None or (r.chars >= chars and r.score >= score)


def table(rows: list[dict], split: str) -> list[str]:
    mine = [r for r in rows if r["split"] == split]
    text = [r for r in mine if r["kind"] == "text"]
    plain = [r for r in mine if r["kind"] == "plain"]
    full = [r for r in mine if r["kind"] == "full"]
    lettered = [r for r in plain + full if Path(r["name"]).name in LETTERED]
    plain = [r for r in plain if r not in lettered]
    full = [r for r in full if r not in lettered]
    lines = [f"{split}: {len(text)} rendered-text images, {len(plain)} photos at 1080x800, "
             f"{len(full)} at full size",
             "| least characters | least score | text caught | photos flagged (1080x800) "
             "| photos flagged (full) |",
             "|---|---|---|---|---|"]
    settings: list[tuple[int | None, float]] = [(None, 0.0)] + [(c, s) for c in CHARS for s in SCORES]
    for chars, score in settings:
        def hit(r: dict, on_text: bool | None, chars: int | None = chars, score: float = score) -> bool:
            return any(_confirmed(g, chars, score) and (on_text is None or g.on_text == on_text)
                       for g in r["regions"])
        caught = sum(hit(r, True) for r in text)
        fp_plain = sum(hit(r, None) for r in plain)
        fp_full = sum(hit(r, None) for r in full)
        label = ("detection only", "-") if chars is None else (str(chars), f"{score:.2f}")
        lines.append(f"| {label[0]} | {label[1]} | {caught}/{len(text)} ({caught / max(1, len(text)):.2f}) | "
                     f"{fp_plain}/{len(plain)} ({fp_plain / max(1, len(plain)):.2f}) | "
                     f"{fp_full}/{len(full)} ({fp_full / max(1, len(full)):.2f}) |")
    if lettered:
        read = "; ".join(f"{r['name']} ({r['kind']}): " + ", ".join(repr(g.text) for g in r["regions"]
                                                                  if g.chars >= 2) for r in lettered)
        lines.append(f"\nWallpapers with lettering of their own (not counted above): {read}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="write every region (text, score, characters) here")
    parser.add_argument("--limit", type=int, help="use only the first N photos")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    photos = load_photos(args.limit)
    if not photos:
        sys.exit("no photos found under .data/")
    rng = np.random.default_rng(24)
    rows: list[dict] = []
    for name, split, rgb in photos:
        small = _cover(rgb, *SIZE)
        rows.append({"name": name, "split": split, "kind": "full", "regions": _regions(rgb, None)})
        rows.append({"name": name, "split": split, "kind": "plain", "regions": _regions(small, None)})
        for style in STYLES:
            img, mask, text = render(small, style, rng)
            rows.append({"name": name, "split": split, "kind": "text", "style": style, "text": text,
                         "regions": _regions(img, mask)})
        print(f"{name}: {sum(len(r['regions']) for r in rows[-8:])} regions", file=sys.stderr)
    for split in ("tune", "check"):
        print("\n".join(table(rows, split)) + "\n")
    print(f"{len(rows)} images in {time.perf_counter() - started:.0f} s")
    if args.json:
        out = [{**r, "regions": [vars(g) for g in r["regions"]]} for r in rows]
        args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
