"""Generate the sample images shipped in ``src/artlens/samples`` (run once; the outputs are committed).

Real photos: scikit-image's bundled ``astronaut`` (NASA, public domain), ``coffee`` and ``chelsea`` (CC0; see
docs/data.md). Product shots: a rendered stoneware vase (Lambertian + Phong shading of a surface of
revolution, its glaze speckled with scikit-image's real ``gravel`` photo and a little sensor noise, so the
product has the statistics of a photographed surface) placed so that the Amazon preset gives pass, review
and fail for known reasons.

    .venv/bin/python scripts/make_samples.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data


def render_vase(height: int, colour: tuple[float, float, float] = (0.16, 0.33, 0.62)) -> np.ndarray:
    """An RGBA vase of the given height: a surface of revolution lit from the upper left."""
    width = int(height * 0.62)
    y = np.linspace(0.0, 1.0, height)[:, None]
    profile = 0.30 + 0.16 * np.sin(np.pi * (y * 1.25 - 0.05)) - 0.12 * np.exp(-((y - 0.08) / 0.07) ** 2)
    x = np.linspace(-0.5, 0.5, width)[None, :] / profile
    inside = np.abs(x) <= 1.0
    nx = np.clip(x, -1, 1)
    nz = np.sqrt(np.clip(1 - nx**2, 0, 1))
    light = np.array([-0.5, -0.35, 0.8])
    light /= np.linalg.norm(light)
    diffuse = np.clip(nx * light[0] + nz * light[2] + 0.15 * light[1], 0, 1)
    half = light + np.array([0, 0, 1.0])
    half /= np.linalg.norm(half)
    specular = np.clip(nx * half[0] + nz * half[2], 0, 1) ** 60
    rings = 0.04 * np.sin(y * 90)  # glaze bands give the texture a sharp detail to measure
    base = np.array(colour)[None, None, :]
    rgb = base * (0.25 + 0.75 * diffuse[..., None]) + rings[..., None] * base + 0.8 * specular[..., None]
    gravel = data.gravel().astype(np.float32)
    speckle = np.tile(gravel, (height // gravel.shape[0] + 1, width // gravel.shape[1] + 1))[:height, :width]
    speckle = (speckle - speckle.mean()) / speckle.std()
    rgb = rgb * (1 + 0.12 * speckle[..., None])
    rgb = rgb + np.random.default_rng(height).normal(0, 2.0 / 255, rgb.shape)  # sensor noise
    rgba = np.zeros((height, width, 4), np.float32)
    rgba[..., :3] = np.clip(rgb, 0, 1)
    rgba[..., 3] = inside.astype(np.float32)
    rgba[..., 3] = cv2.GaussianBlur(rgba[..., 3], (3, 3), 0)  # anti-aliased edge
    return (rgba * 255).astype(np.uint8)


def place(canvas: np.ndarray, sprite: np.ndarray, cx: int, cy: int, shadow: bool = True) -> np.ndarray:
    """Alpha-composite ``sprite`` centred at (cx, cy) with a soft contact shadow."""
    out = canvas.astype(np.float32)
    h, w = sprite.shape[:2]
    y0, x0 = cy - h // 2, cx - w // 2
    if shadow:
        mask = np.zeros(out.shape[:2], np.float32)
        cv2.ellipse(mask, (cx, y0 + h - 4), (int(w * 0.42), max(4, h // 40)), 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), max(2, h / 90))
        out *= 1 - 0.25 * mask[..., None]
    alpha = sprite[..., 3:4].astype(np.float32) / 255
    region = out[y0:y0 + h, x0:x0 + w]
    region[:] = region * (1 - alpha) + sprite[..., :3].astype(np.float32) * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


def white(size: tuple[int, int]) -> np.ndarray:
    return np.full((size[1], size[0], 3), 255, np.uint8)


def save(rgb: np.ndarray, path: Path, quality: int = 90) -> None:
    Image.fromarray(rgb).save(path, quality=quality, optimize=True)


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("astronaut", "coffee", "chelsea"):
        save(getattr(data, name)(), out_dir / f"photo-{name}.jpg")

    size = 1200
    vase = render_vase(int(size * 0.86))  # fills 86% of the frame's height, margins left white
    save(place(white((size, size)), vase, size // 2, size // 2), out_dir / "product-vase-white.jpg")

    small = render_vase(int(size * 0.45))
    save(place(white((size, size)), small, size // 2, size // 2), out_dir / "product-vase-small.jpg")

    medium = render_vase(int(900 * 0.82))
    save(place(white((900, 900)), medium, 450, 450), out_dir / "product-vase-900px.jpg")

    clutter = cv2.resize(data.coffee(), (size, size), interpolation=cv2.INTER_CUBIC)
    save(place(clutter, vase, size // 2, size // 2, shadow=False), out_dir / "product-vase-cluttered.jpg")

    banner = place(white((size, size)), vase, size // 2, size // 2)
    cv2.rectangle(banner, (30, 30), (400, 140), (200, 20, 30), -1)  # in the corner, clear of the vase
    cv2.putText(banner, "SALE -30%", (48, 110), cv2.FONT_HERSHEY_DUPLEX, 1.8, (255, 255, 255), 4, cv2.LINE_AA)
    save(banner, out_dir / "product-vase-sale-banner.jpg")

    blurry = cv2.GaussianBlur(place(white((size, size)), vase, size // 2, size // 2), (0, 0), 9)
    save(blurry, out_dir / "product-vase-blurry.jpg")

    framed = place(white((size, size)), vase, size // 2, size // 2)
    framed[:36], framed[-36:], framed[:, :36], framed[:, -36:] = 20, 20, 20, 20
    save(framed, out_dir / "product-vase-framed.jpg")


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1] / "src/artlens/samples"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
