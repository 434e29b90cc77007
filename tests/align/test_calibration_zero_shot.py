"""The third round's calibration negatives (other groups only) and class-prior centring of zero-shot."""

from types import SimpleNamespace

import numpy as np

from artlens.align.conse import joint, reweight
from artlens.align.tag import zero_shot_scores
from artlens.align.train.recipe import fit_calibration


def _near_synonym_set(seed: int = 0):
    """40 images in 8 groups; each image's caption is close to the captions of its own group (cosine
    about 0.6, as near-synonyms are) and far from the others' (about 0)."""
    rng = np.random.default_rng(seed)
    groups = [f"g{k // 5}" for k in range(40)]
    centres = rng.normal(size=(8, 64))
    txt = np.stack([centres[k // 5] + 0.8 * rng.normal(size=64) for k in range(40)])
    txt /= np.linalg.norm(txt, axis=1, keepdims=True)
    img = txt + 0.3 * rng.normal(size=txt.shape)
    img /= np.linalg.norm(img, axis=1, keepdims=True)
    captions = [[f"caption {k}"] for k in range(40)]
    index = {f"caption {k}": k for k in range(40)}
    return img.astype(np.float32), txt.astype(np.float32), captions, index, groups


def _probability(fit, cos):
    return 1 / (1 + np.exp(-(fit["a"] * cos + fit["b"])))


def test_other_group_negatives_raise_the_probability_of_right_pairs():
    img, txt, captions, index, groups = _near_synonym_set()
    any_fit = fit_calibration(img, txt, captions, index, negatives=20)
    other_fit = fit_calibration(img, txt, captions, index, negatives=20, groups=groups)
    right = np.einsum("ij,ij->i", img, txt)
    assert _probability(other_fit, right).mean() > _probability(any_fit, right).mean() + 0.05
    assert other_fit["a"] > any_fit["a"]  # same-group near-synonyms no longer flatten the curve


def test_other_group_negatives_never_use_the_same_group():
    img, txt, captions, index, _ = _near_synonym_set()
    one_group = ["g"] * 40  # nothing to draw a negative from: the fit sees positives only, and stays defined
    fit = fit_calibration(img, txt, captions, index, negatives=5, groups=one_group)
    assert np.isfinite(fit["a"]) and np.isfinite(fit["b"])


class _Stub:
    """A model whose label vectors are the unit axes and whose temperature is 1."""

    temperature = 1.0
    config = SimpleNamespace(zero_shot_weight=None, imagenet_weight=0.0, embed_dim=3)

    def embed_labels(self, labels, prompts=()):
        return np.eye(len(labels), dtype=np.float32)


def test_centring_removes_a_lean_shared_by_every_image():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 10)
    emb = np.eye(3)[y] * 0.3 + rng.normal(0, 0.02, (30, 3))
    emb[:, 0] += 0.5  # every image leans to label 0
    plain = zero_shot_scores(_Stub(), emb.astype(np.float32), ["a", "b", "c"]).argmax(1)
    centred = zero_shot_scores(_Stub(), emb.astype(np.float32), ["a", "b", "c"], centre=True)
    assert (plain == 0).all()
    assert (centred.argmax(1) == y).mean() > 0.9
    assert np.allclose(centred.sum(1), 1.0)


def test_centring_one_image_changes_nothing():
    emb = np.array([[0.9, 0.1, 0.0]], np.float32)
    plain = zero_shot_scores(_Stub(), emb, ["a", "b", "c"])
    assert np.allclose(zero_shot_scores(_Stub(), emb, ["a", "b", "c"], centre=True), plain)


def test_reweight_equals_joint_at_the_new_weight():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 8))
    c = rng.normal(size=(5, 6))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    made = joint(a, c, 0.5)
    assert np.allclose(reweight(made, 8, 0.5, 1.0), joint(a, c, 1.0), atol=1e-6)
    assert np.allclose(reweight(made, 8, 0.5, 0.5), made)
    assert np.allclose(reweight(made, 8, 0.5, 0.0)[:, :8], a, atol=1e-6)
