"""Safe image loading: every format and mode to upright sRGB uint8, one-line errors, bombs refused early."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from artlens.errors import ImageLoadError
from artlens.imageio import (
    DEFAULT_MAX_PIXELS,
    collect_inputs,
    iter_image_files,
    load_image,
    load_image_bytes,
    sniff_format,
)


@pytest.fixture(scope="module")
def coffee() -> np.ndarray:
    from skimage import data

    return data.coffee()[::2, ::2].copy()  # 200 x 300


def _save(img: Image.Image, path: Path, **kwargs) -> Path:
    img.save(path, **kwargs)
    return path


@pytest.mark.parametrize(
    ("suffix", "fmt", "tolerance"),
    [(".png", "PNG", 0), (".bmp", "BMP", 0), (".tif", "TIFF", 0), (".webp", "WEBP", 0),
     (".jpg", "JPEG", 12), (".gif", "GIF", 40)],
)
def test_common_formats_decode_to_rgb_uint8(coffee: np.ndarray, tmp_path: Path, suffix: str, fmt: str,
                                           tolerance: int) -> None:
    extra = {"lossless": True} if fmt == "WEBP" else {}
    path = _save(Image.fromarray(coffee), tmp_path / f"img{suffix}", **extra)
    loaded = load_image(path)
    assert loaded.format == fmt
    assert loaded.rgb.dtype == np.uint8 and loaded.rgb.shape == coffee.shape
    assert (loaded.width, loaded.height) == (coffee.shape[1], coffee.shape[0])
    error = np.abs(loaded.rgb.astype(int) - coffee.astype(int)).mean()
    assert error <= tolerance
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.file_size == path.stat().st_size


def test_gif_first_frame_only(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (40, 30), colour) for colour in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    loaded = load_image(path)
    assert loaded.n_frames == 3
    assert tuple(loaded.rgb[15, 20]) == (255, 0, 0)


def test_sixteen_bit_png_and_tiff_scaled_not_clipped(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (16, 1))
    rgb16 = np.dstack([ramp, ramp, ramp])
    for name, array in (("grey.png", ramp), ("grey.tif", ramp), ("rgb.png", rgb16), ("rgb.tif", rgb16)):
        path = tmp_path / name
        assert cv2.imwrite(str(path), array)
        loaded = load_image(path)
        assert loaded.bit_depth == 16, name
        row = loaded.rgb[8, :, 0].astype(int)
        assert row[0] <= 1 and row[-1] >= 254, name  # full range kept, not clipped at 255/65535
        assert np.all(np.diff(row) >= 0), name
        assert abs(row[128] - 128) <= 2, name


def test_cmyk_jpeg_converted_to_rgb(tmp_path: Path) -> None:
    red = Image.new("RGB", (32, 32), (220, 30, 30)).convert("CMYK")
    loaded = load_image(_save(red, tmp_path / "cmyk.jpg", quality=95))
    assert loaded.mode == "CMYK"
    r, g, b = loaded.rgb[16, 16].astype(int)
    assert r > 180 and g < 80 and b < 80


def test_palette_and_grey_modes(coffee: np.ndarray, tmp_path: Path) -> None:
    palette = Image.fromarray(coffee).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    loaded = load_image(_save(palette, tmp_path / "p.png"))
    assert loaded.mode == "P" and loaded.rgb.shape == coffee.shape
    assert np.abs(loaded.rgb.astype(int) - coffee.astype(int)).mean() < 15
    grey = load_image(_save(Image.fromarray(coffee).convert("L"), tmp_path / "l.png"))
    assert np.array_equal(grey.rgb[..., 0], grey.rgb[..., 2])


def test_alpha_composited_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :10, 3] = 255  # left half opaque red, right half fully transparent
    loaded = load_image(_save(Image.fromarray(rgba, "RGBA"), tmp_path / "a.png"))
    assert loaded.has_alpha
    assert tuple(loaded.rgb[5, 2]) == (200, 0, 0)
    assert tuple(loaded.rgb[5, 15]) == (255, 255, 255)

    la = Image.fromarray(np.dstack([np.full((8, 8), 40, np.uint8), np.full((8, 8), 128, np.uint8)]), "LA")
    half = load_image(_save(la, tmp_path / "la.png")).rgb[0, 0]
    assert 140 <= int(half[0]) <= 150  # 40 at 50% over white


def test_palette_transparency_composited(tmp_path: Path) -> None:
    img = Image.new("P", (10, 10), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(1, (0, 0, 5, 10))
    loaded = load_image(_save(img, tmp_path / "t.gif", transparency=0))
    assert tuple(loaded.rgb[5, 8]) == (255, 255, 255)
    assert tuple(loaded.rgb[5, 2]) == (255, 0, 0)


def test_exif_orientation_applied(tmp_path: Path) -> None:
    array = np.zeros((20, 40, 3), np.uint8)  # landscape, red on the left
    array[:, :10] = (255, 0, 0)
    img = Image.fromarray(array)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = _save(img, tmp_path / "rot.jpg", exif=exif.tobytes(), quality=95)
    loaded = load_image(path)
    assert loaded.rgb.shape[:2] == (40, 20)  # shown as portrait
    assert loaded.rgb[2, 10, 0] > 200  # the red band is now at the top


def test_input_file_never_modified(coffee: np.ndarray, tmp_path: Path) -> None:
    img = Image.fromarray(coffee)
    exif = img.getexif()
    exif[0x0112] = 3
    path = _save(img, tmp_path / "keep.jpg", exif=exif.tobytes())
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    load_image(path)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


def test_decompression_bomb_refused_from_header(tmp_path: Path) -> None:
    # A 20000 x 20000 PNG whose pixels compress to almost nothing: refused before any decoding.
    path = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(path)
    assert path.stat().st_size < 200_000
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert "20000x20000 (400.0 MP)" in message and "above the 50.0 MP limit" in message
    with pytest.raises(ImageLoadError, match=r"above the 0\.1 MP limit"):
        load_image(path, max_pixels=100_000)


def test_pixel_limit_is_configurable(tmp_path: Path) -> None:
    path = _save(Image.new("RGB", (400, 300)), tmp_path / "x.png")
    assert load_image(path, max_pixels=120_000).width == 400
    with pytest.raises(ImageLoadError, match="400x300"):
        load_image(path, max_pixels=119_999)
    assert DEFAULT_MAX_PIXELS == 50_000_000


def test_bad_files_give_one_line_errors_naming_the_file(coffee: np.ndarray, tmp_path: Path) -> None:
    good = io.BytesIO()
    Image.fromarray(coffee).save(good, format="JPEG")
    png = io.BytesIO()
    Image.fromarray(coffee).save(png, format="PNG")
    cases = {
        "empty.jpg": (b"", "empty file"),
        "notes.jpg": (b"shopping list: milk, eggs\n" * 10, "not an image"),
        "page.png": (b"<!DOCTYPE html><html></html>", "not an image"),
        "cut.jpg": (good.getvalue()[: len(good.getvalue()) // 2], "truncated"),
        "cut.png": (png.getvalue()[: len(png.getvalue()) // 2], "truncated"),
        "garbled.png": (png.getvalue()[:40] + bytes(range(256)) * 40, "corrupt"),
    }
    for name, (content, reason) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ImageLoadError) as info:
            load_image(path)
        message = str(info.value)
        assert message.startswith(f"{path}: "), message
        assert reason in message, message
        assert "\n" not in message
        assert info.value.path == str(path)

    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "absent.jpg")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


def test_load_image_bytes_and_sniff(coffee: np.ndarray) -> None:
    for fmt in ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF"):
        buffer = io.BytesIO()
        Image.fromarray(coffee).save(buffer, format=fmt)
        data = buffer.getvalue()
        assert sniff_format(data) == fmt
        assert load_image_bytes(data, f"upload.{fmt.lower()}").format == fmt
    assert sniff_format(b"GIF8") is None
    assert sniff_format(b"%PDF-1.7 ...") is None
    with pytest.raises(ImageLoadError, match=r"upload\.bin: empty"):
        load_image_bytes(b"", "upload.bin")


def test_folder_walk_recursive_sorted_hidden_skipped(tmp_path: Path) -> None:
    names = ("b.jpg", "a/z.PNG", "a/y.webp", "a/deep/x.tif", ".hidden/h.jpg", "a/.secret.jpg", "notes.txt")
    for rel in names:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_image_files([tmp_path])]
    assert found == ["a/deep/x.tif", "a/y.webp", "a/z.PNG", "b.jpg"]
    # A file named explicitly is taken whatever its suffix; duplicates are dropped.
    named = list(iter_image_files([tmp_path / "notes.txt", tmp_path / "b.jpg", tmp_path]))
    assert named[0].name == "notes.txt" and len(named) == 5


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "p.jpg").write_bytes(b"x")
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    os.symlink(tmp_path / "sub", tmp_path / "again")
    found = list(iter_image_files([tmp_path]))
    assert len(found) == 1


def test_collect_inputs_reports_missing(tmp_path: Path) -> None:
    (tmp_path / "one.png").write_bytes(b"x")
    files, missing = collect_inputs([tmp_path, tmp_path / "gone", tmp_path / "gone.jpg"])
    assert [f.name for f in files] == ["one.png"]
    assert [e.path for e in missing] == [str(tmp_path / "gone"), str(tmp_path / "gone.jpg")]
    assert all("no such file" in str(e) for e in missing)


# -- the one array convention ---------------------------------------------------------------------------

def test_as_rgb_uint8_reads_grey_alpha_and_float_the_same_way():
    from artlens.imageio import as_grey, as_rgb_uint8

    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    rgb = as_rgb_uint8(grey)
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    assert np.array_equal(rgb[..., 0], grey) and np.array_equal(rgb[..., 2], grey)
    assert np.array_equal(as_rgb_uint8(grey[..., None]), rgb)
    rgba = np.dstack([rgb, np.full((3, 4), 7, np.uint8)])
    assert np.array_equal(as_rgb_uint8(rgba), rgb)
    assert np.array_equal(as_rgb_uint8(rgb.astype(np.float32) / 255.0), rgb)
    assert as_rgb_uint8(rgb) is rgb  # already conforming: no copy
    assert np.array_equal(as_grey(rgb), grey)
    with np.errstate(invalid="ignore"):
        assert as_rgb_uint8(np.array([[[np.nan, 2.0, -1.0]]])).tolist() == [[[0, 255, 0]]]


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 2), np.uint8), np.zeros((4, 4, 3), np.uint16),
                                 np.zeros((4, 4, 3), bool), np.zeros((0, 4, 3), np.uint8),
                                 np.zeros(4, np.uint8)])
def test_as_rgb_uint8_refuses_what_is_not_an_image(bad):
    from artlens.errors import ArtlensError, ImageArrayError
    from artlens.imageio import as_rgb_uint8

    with pytest.raises(ImageArrayError) as info:
        as_rgb_uint8(bad)
    assert isinstance(info.value, ArtlensError) and isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_as_rgb_uint8_min_side():
    from artlens.errors import ImageArrayError
    from artlens.imageio import as_rgb_uint8

    with pytest.raises(ImageArrayError, match="at least 8x8"):
        as_rgb_uint8(np.zeros((7, 40, 3), np.uint8), min_side=8)
