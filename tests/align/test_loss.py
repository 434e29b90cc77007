import torch

from artlens.align.loss import contrastive_loss


def test_matched_pairs_score_lower_than_shuffled():
    g = torch.Generator().manual_seed(0)
    img = torch.nn.functional.normalize(torch.randn(16, 8, generator=g), dim=1)
    scale = torch.tensor(2.0)
    matched = contrastive_loss(img, img, scale)
    shuffled = contrastive_loss(img, img[torch.randperm(16, generator=g)], scale)
    assert matched < shuffled


def test_a_lower_temperature_sharpens_a_correct_match():
    img = torch.eye(4)
    assert contrastive_loss(img, img, torch.tensor(3.0)) < contrastive_loss(img, img, torch.tensor(0.0))


def test_loss_is_symmetric_in_its_towers():
    g = torch.Generator().manual_seed(1)
    a = torch.nn.functional.normalize(torch.randn(6, 4, generator=g), dim=1)
    b = torch.nn.functional.normalize(torch.randn(6, 4, generator=g), dim=1)
    scale = torch.tensor(1.5)
    assert torch.isclose(contrastive_loss(a, b, scale), contrastive_loss(b, a, scale))
