"""ConSE vectors, the joint cosine of the heads and ConSE (artlens.align.conse), and the model using them."""

import numpy as np
import torch

from artlens.align.conse import conse_vectors, joint
from artlens.align.heads import AlignConfig, AlignHeads
from artlens.align.image import image_features
from artlens.align.model import AlignModel

from .conftest import draw


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_conse_mixes_the_top_classes_by_their_probability():
    classes = np.eye(4, dtype=np.float32)
    probs = np.array([[0.7, 0.2, 0.1, 0.0], [0.0, 0.0, 0.1, 0.9]], np.float32)
    v = conse_vectors(probs, classes, top=2)
    assert np.allclose(v[0], _unit(np.array([[0.7, 0.2, 0, 0]]))[0], atol=1e-6)
    assert np.allclose(v[1], _unit(np.array([[0, 0, 0.1, 0.9]]))[0], atol=1e-6)
    assert conse_vectors(probs[:0], classes).shape == (0, 4)


def test_joint_dot_product_is_the_weighted_mean_of_the_two_cosines():
    rng = np.random.default_rng(0)
    a1, a2 = _unit(rng.normal(size=(3, 5))), _unit(rng.normal(size=(3, 5)))
    b1, b2 = _unit(rng.normal(size=(3, 7))), _unit(rng.normal(size=(3, 7)))
    j1, j2 = joint(a1, b1, 0.5), joint(a2, b2, 0.5)
    assert np.allclose(np.linalg.norm(j1, axis=1), 1, atol=1e-6)
    expected = ((a1 * a2).sum(1) + 0.5 * (b1 * b2).sum(1)) / 1.5
    assert np.allclose((j1 * j2).sum(1), expected, atol=1e-6)
    assert np.array_equal(joint(a1, b1, 0.0), a1.astype(np.float32))


def test_model_with_conse_gives_unit_vectors_in_one_joint_space():
    images = [draw("red", "circle", seed=1), draw("blue", "square", seed=2)]
    feats = image_features(images)
    config = AlignConfig(image_dim=feats.shape[1], embed_dim=8, hidden=16, imagenet_weight=0.5)
    heads = AlignHeads(config)
    names = torch.randn(1000, 384, generator=torch.Generator().manual_seed(0))
    names = torch.nn.functional.normalize(names, dim=1)
    heads.attach_imagenet(names, 0.5)
    model = AlignModel(heads)
    emb = model.embed_features(feats)
    txt = model.embed_texts(["a red circle"])
    assert emb.shape == (2, 8 + 384) and txt.shape == (1, 8 + 384)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    probs = model.imagenet_probabilities(feats)
    assert probs.shape == (2, 1000) and np.allclose(probs.sum(1), 1, atol=1e-4)
    labels = model.embed_labels(["circle", "square"])
    assert labels.shape == (2, 8 + 384)
