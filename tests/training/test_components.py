"""The small pieces of artlens.training: progress events, optimiser groups, schedule, stopping, losses."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

from artlens.errors import ConfigError
from artlens.training import (
    EarlyStopping,
    ProgressEvent,
    class_weights,
    cosine_schedule,
    make_optimizer,
    ordered_pairs_loss,
    parameter_groups,
    report,
)


def test_report_sends_one_event_and_leaves_out_missing_figures():
    seen: list[ProgressEvent] = []
    report(seen.append, "epoch", 2, 5, {"loss": 0.5, "val_f1": None, "bad": float("nan"), "fold": 1,
                                       "run": "final"})
    report(None, "epoch", 3, 5, {"loss": 0.4})  # no callback: nothing happens
    assert seen == [ProgressEvent("epoch", 2, 5, {"loss": 0.5, "fold": 1})]
    assert seen[0].fraction == pytest.approx(0.4)
    assert ProgressEvent("load", 3, None).fraction is None
    with pytest.raises(TypeError):
        seen[0].metrics["loss"] = 1.0  # read-only
    with pytest.raises(AttributeError):
        seen[0].done = 3  # frozen


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)
        self.ln = nn.LayerNorm(2)
        self.scale = nn.Parameter(torch.ones(2, 2))


def test_parameter_groups_leave_norms_and_biases_undecayed():
    net = _Net()
    net.fc.weight.requires_grad_(False)
    groups = parameter_groups(net, 0.5, lr=0.1)
    names = {id(p): n for n, p in net.named_parameters()}
    decayed = {names[id(p)] for p in groups[0]["params"]}
    flat = {names[id(p)] for p in groups[1]["params"]}
    assert decayed == {"conv.weight", "scale"}  # fc.weight is frozen: in no group
    assert flat == {"conv.bias", "bn.weight", "bn.bias", "fc.bias", "ln.weight", "ln.bias"}
    assert [g["weight_decay"] for g in groups] == [0.5, 0.0] and all(g["lr"] == 0.1 for g in groups)


def test_adamw_decays_weights_but_not_norms_or_biases():
    """With zero gradients AdamW only applies decay: weights shrink, norm scales and biases stay."""
    net = _Net()
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    opt = make_optimizer(net, lr=0.1, weight_decay=0.5)
    assert isinstance(opt, torch.optim.AdamW)
    for p in net.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    for name, p in net.named_parameters():
        if name in ("conv.weight", "fc.weight", "scale"):
            torch.testing.assert_close(p, before[name] * (1 - 0.1 * 0.5))
        else:
            assert torch.equal(p, before[name]), name


def test_make_optimizer_refuses_bad_settings():
    with pytest.raises(ConfigError, match="optimizer"):
        make_optimizer(_Net(), lr=0.1, name="lion")
    with pytest.raises(ConfigError, match="lr"):
        make_optimizer(_Net(), lr=0.0)
    frozen = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(ConfigError, match="no trainable"):
        make_optimizer(frozen, lr=0.1)


def test_cosine_schedule_warms_up_then_decays_to_zero():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = cosine_schedule(opt, total_steps=12, warmup_steps=2)
    rates = []
    for _ in range(12):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert rates[:3] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert rates[2 + 5] == pytest.approx(0.5)  # half-way through the decay
    assert all(a >= b for a, b in itertools.pairwise(rates[2:]))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0)
    with pytest.raises(ConfigError, match="warmup_steps"):
        cosine_schedule(opt, total_steps=4, warmup_steps=5)


def test_early_stopping_counts_stale_evaluations_and_breaks_ties_in_order():
    stop = EarlyStopping(patience=2, min_delta=0.01, mode="min")
    assert [stop.update(v) for v in (1.0, 0.8, 0.795, 0.9)] == [True, True, False, False]
    assert stop.should_stop and stop.best == (0.8,) and stop.best_step == 1
    never = EarlyStopping(patience=0, mode="max")
    for v in (0.9, 0.1, 0.1, 0.1):
        never.update(v)
    assert not never.should_stop and never.stale == 3
    ties = EarlyStopping(patience=1, min_delta=1e-12, mode="max")
    assert ties.update((0.5, -0.7))
    assert ties.update((0.5, -0.6))  # same F1, lower loss
    assert not ties.update((0.5, -0.65))
    assert not ties.update((0.4, 0.0))  # worse F1: a lower loss does not help
    restored = EarlyStopping(patience=1, min_delta=1e-12, mode="max")
    restored.load_state_dict(ties.state_dict())
    assert restored.best == ties.best and restored.stale == ties.stale and restored.steps == 4
    with pytest.raises(ConfigError, match="mode"):
        EarlyStopping(1, mode="up")
    with pytest.raises(ConfigError, match="finite"):
        stop.update(float("nan"))


def test_class_weights_balance_classes_and_give_an_empty_class_zero():
    w = class_weights([0, 0, 0, 1, -1], 3)  # class 2 absent; -1 is a missing label
    assert w.dtype == torch.float32
    np.testing.assert_allclose(w.numpy(), [4 / (3 * 3), 4 / (3 * 1), 0.0])
    full = class_weights([0, 0, 1, 1], 2)
    np.testing.assert_allclose(full.numpy(), [1.0, 1.0])
    weighted = class_weights([0, 0, 1], 2, sample_weight=[0.5, 0.5, 1.0])  # both classes weigh 1 in all
    np.testing.assert_allclose(weighted.numpy(), [1.0, 1.0])
    # with label smoothing, a large weight on a class never seen would pull predictions towards it
    labels = [0] * 20 + [1] * 20
    old_rule = torch.tensor([2 / 3, 2 / 3, 40 / 3])  # n / (k * max(n_c, 1))
    for weights, pushed_up in ((class_weights(labels, 3), False), (old_rule, True)):
        logits = torch.zeros(2, 3, requires_grad=True)
        nn.CrossEntropyLoss(weight=weights, label_smoothing=0.1)(logits, torch.tensor([0, 1])).backward()
        assert bool(torch.all(logits.grad[:, 2] < 0)) == pushed_up  # a negative gradient raises class 2
    with pytest.raises(ConfigError, match="not below"):
        class_weights([0, 3], 3)


def test_ordered_pairs_loss_penalises_misordered_pairs_only():
    targets = torch.tensor([0.0, 0.5, 1.0])
    assert float(ordered_pairs_loss(torch.tensor([0.0, 1.0, 2.0]), targets, 0.1)) == 0.0
    wrong = ordered_pairs_loss(torch.tensor([2.0, 1.0, 0.0]), targets, 0.1)
    assert math.isclose(float(wrong), (1.1 + 2.1 + 1.1) / 3, rel_tol=1e-6)
    assert float(ordered_pairs_loss(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]), 0.1)) == 0.0
