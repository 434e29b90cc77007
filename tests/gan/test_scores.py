"""KID, the Fréchet distance and the memorisation check on feature sets made here."""

from __future__ import annotations

import numpy as np
import pytest

from artlens.errors import ConfigError
from artlens.gan import frechet_distance, kernel_inception_distance, memorisation


def test_kid_of_a_set_against_itself_is_about_zero_and_against_another_positive():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 32))
    b = rng.normal(size=(400, 32))
    shifted = rng.normal(loc=0.5, size=(400, 32))
    same = kernel_inception_distance(a, a, subsets=20, subset_size=200)
    twin = kernel_inception_distance(a, b, subsets=20, subset_size=200)
    other = kernel_inception_distance(a, shifted, subsets=20, subset_size=200)
    # the same rows on both sides: slightly below 0 (the cross term keeps each row's kernel with itself)
    assert abs(same.kid) < 0.05 * other.kid
    assert abs(twin.kid) < 3 * twin.std + 1e-3
    assert other.kid > 10 * max(twin.std, 1e-4) and other.kid > 0.5
    assert other.stderr == pytest.approx(other.std / np.sqrt(20))


def test_frechet_distance_is_zero_for_one_set_and_grows_with_a_shift():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(300, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + 1.0) == pytest.approx(8.0, rel=1e-6)


def test_kid_refuses_mismatched_sets():
    with pytest.raises(ConfigError, match="one width"):
        kernel_inception_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ConfigError, match="at least 4"):
        kernel_inception_distance(np.zeros((1, 3)), np.zeros((5, 3)))


def test_memorisation_finds_copies_and_clears_new_samples():
    rng = np.random.default_rng(2)
    train = rng.normal(size=(50, 16))
    copies = memorisation(train, train[:10] + 1e-4 * rng.normal(size=(10, 16)))
    assert copies.near_copies == 10 and copies.nearest == list(range(10))
    assert copies.share_closer_than_train == 1.0
    fresh = memorisation(train, rng.normal(size=(20, 16)))
    assert fresh.near_copies == 0
    assert fresh.share_closer_than_train < 0.8


def test_precision_and_recall_tell_realism_from_variety():
    from artlens.gan import precision_recall

    rng = np.random.default_rng(3)
    real = rng.normal(size=(300, 8))
    twin = precision_recall(real, rng.normal(size=(300, 8)))
    assert twin.precision > 0.8 and twin.recall > 0.8 and twin.k == 3
    # a collapsed generator: every sample near one of three real images; realistic, but little variety
    modes = real[:3][rng.integers(0, 3, 300)] + 0.01 * rng.normal(size=(300, 8))
    collapsed = precision_recall(real, modes)
    assert collapsed.precision > 0.95 and collapsed.recall < 0.1
    # samples far from every real image: nothing realistic, nothing covered
    away = precision_recall(real, rng.normal(loc=6.0, size=(300, 8)))
    assert away.precision < 0.05 and away.recall < 0.05


def test_precision_and_recall_refuse_too_few_images_or_mismatched_widths():
    from artlens.gan import precision_recall

    with pytest.raises(ConfigError, match="more than 3"):
        precision_recall(np.zeros((3, 4)), np.zeros((10, 4)))
    with pytest.raises(ConfigError, match="one width"):
        precision_recall(np.zeros((10, 4)), np.zeros((10, 5)))
