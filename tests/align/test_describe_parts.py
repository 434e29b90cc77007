import numpy as np

from artlens.align.colors import COLOUR_NAMES, colour_histogram, palette
from artlens.align.describe import composition, tone

from .conftest import draw


def test_colour_histogram_names_a_red_square():
    img = np.full((40, 40, 3), 255, np.uint8)
    img[:, :20] = (220, 30, 30)
    hist = colour_histogram(img)
    assert abs(hist.sum() - 1) < 1e-5
    assert hist[COLOUR_NAMES.index("red")] > 0.45 and hist[COLOUR_NAMES.index("white")] > 0.45


def test_palette_leads_with_the_largest_colour():
    img = np.full((60, 60, 3), 255, np.uint8)
    img[:, :45] = (40, 80, 210)
    colours = palette(img, k=3)
    assert colours[0]["name"] == "blue" and colours[0]["share"] > 0.6
    assert all(c["hex"].startswith("#") and len(c["hex"]) == 7 for c in colours)


def test_tone_words():
    dark = np.full((30, 30, 3), 20, np.uint8)
    assert tone(dark)["brightness_word"] == "dark"
    assert tone(dark)["contrast_word"] == "low"
    stripes = np.zeros((30, 30, 3), np.uint8)
    stripes[:, ::2] = 255
    assert tone(stripes)["contrast_word"] == "high"


def test_composition_finds_a_subject_on_the_left_and_symmetry():
    img = np.full((100, 160, 3), 255, np.uint8)
    img[40:60, 10:40] = (200, 0, 0)
    comp = composition(img)
    assert comp["subject_position"].endswith("left") and comp["backdrop_found"]
    assert comp["orientation"] == "landscape"
    centred = np.full((100, 100, 3), 255, np.uint8)
    centred[30:70, 30:70] = 0
    comp = composition(centred)
    assert comp["subject_position"] == "centre" and comp["symmetric"]


def test_drawn_shapes_are_mostly_their_colour():
    img = draw("green", "circle", seed=3)
    hist = colour_histogram(img)
    hist[COLOUR_NAMES.index("white")] = 0
    assert COLOUR_NAMES[int(hist.argmax())] == "green"


def test_palette_of_a_flat_or_one_pixel_image():
    for shape in ((1, 1, 3), (2, 1, 3), (40, 30, 3)):
        colours = palette(np.full(shape, 120, np.uint8))
        assert [(c["name"], c["share"]) for c in colours] == [("grey", 1.0)], shape
