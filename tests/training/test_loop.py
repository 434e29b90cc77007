"""The shared loops: exact resumption, early stopping that keeps the best state, LP-FT's two phases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from artlens.seeding import seeded
from artlens.training import (
    EarlyStopping,
    FinetuneSettings,
    ProgressEvent,
    Validation,
    cosine_schedule,
    finetune,
    fit,
    load_checkpoint,
    make_optimizer,
)

X = torch.randn(40, 6, generator=torch.Generator().manual_seed(0))
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).long()


def _net() -> nn.Sequential:
    with seeded(1):
        return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 2))


class _Interrupted(Exception):
    pass


def _run(tmp_path, epochs: int, *, stop_at: int | None = None, resume: bool = False):
    """A small run whose batch order comes from a private generator and dropout from the global one."""
    net = _net()
    ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    opt = make_optimizer(net, lr=0.05, weight_decay=0.01)
    sched = cosine_schedule(opt, total_steps=epochs * 5, warmup_steps=2)
    order = np.random.default_rng(3)

    def batches(epoch: int):
        if epoch == stop_at:
            raise _Interrupted
        idx = order.permutation(40)
        return [idx[i:i + 8] for i in range(0, 40, 8)]

    def loss(rows):
        return nn.functional.cross_entropy(net(X[rows]), Y[rows])

    state = load_checkpoint(tmp_path / "ckpt.pt") if resume else None
    with seeded(0):
        result = fit(net, opt, batches, loss, epochs=epochs, scheduler=sched, ema=ema,
                     generators={"order": order}, checkpoint=tmp_path / "ckpt.pt", resume=state)
    return net, ema, result


def test_an_interrupted_and_resumed_run_equals_an_uninterrupted_one(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    net, ema, result = _run(tmp_path / "a", 4)
    with pytest.raises(_Interrupted):
        _run(tmp_path / "b", 4, stop_at=2)
    assert load_checkpoint(tmp_path / "b" / "ckpt.pt")["epoch"] == 2
    net2, ema2, result2 = _run(tmp_path / "b", 4, resume=True)
    for a, b in zip(net.state_dict().values(), net2.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # weights and batch-norm statistics, bit for bit
    for a, b in zip(ema.state_dict().values(), ema2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert [r["loss"] for r in result.history] == [r["loss"] for r in result2.history]
    assert result.best_epoch == result2.best_epoch == 4 and result2.epochs == 4
    # and the run did learn something: the weights moved from the start
    assert not torch.equal(net.state_dict()["0.weight"], _net().state_dict()["0.weight"])


def test_early_stopping_keeps_the_best_epoch_and_reports_progress():
    net = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(net.weight)
    opt = torch.optim.SGD(net.parameters(), lr=0.75)
    x = torch.ones(4, 1)

    def loss(_batch):
        return ((net(x) - 1.0) ** 2).mean()  # the weight overshoots the optimum 1: 1.5, 0.75, 1.125...

    def validate():
        w = float(net.weight)
        return Validation({"val_loss": abs(w - 1.45)}, outputs=torch.tensor([w]))

    events: list[ProgressEvent] = []
    result = fit(net, opt, lambda epoch: [[0, 1]], loss, epochs=20, validate=validate, validate_start=True,
                 stopping=EarlyStopping(2), progress=events.append)
    assert [r["epoch"] for r in result.history] == [0, 1, 2, 3] and result.history[0]["loss"] is None
    assert result.best_epoch == 1 and result.stopped_early and result.epochs == 3
    assert float(net.weight.detach()) == pytest.approx(1.5)  # the best epoch's weight, not the last (1.125)
    assert float(result.best_outputs[0]) == pytest.approx(1.5)
    assert [e.stage for e in events] == ["step", "epoch"] * 3
    assert events[1].metrics["best_epoch"] == 1 and events[1].total == 20 and "val_loss" in events[1].metrics


class _Probe(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        with seeded(2):
            self.body = nn.Sequential(nn.Linear(6, 6), nn.LayerNorm(6))
            self.head = nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.body(x)))


def test_lp_ft_trains_the_head_first_then_the_body_at_a_lower_rate():
    model = _Probe()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    saved: list[dict] = []

    def loss(rows):
        return nn.functional.cross_entropy(model(X[rows]), Y[rows])

    settings = FinetuneSettings(epochs=2, probe_epochs=2, lr=0.1, body_lr_scale=0.1, weight_decay=0.01)
    result = finetune(model, head=model.head, body=model.body, batches=lambda e: [np.arange(40)], loss=loss,
                      steps_per_epoch=1, settings=settings, checkpoint=saved.append)
    probe = [s for s in saved if s["phase"] == "probe"][-1]["fit"]["model"]
    assert torch.equal(probe["body.0.weight"], start["body.0.weight"])  # frozen while the head is probed
    assert not torch.equal(probe["head.weight"], start["head.weight"])
    assert not torch.equal(model.body[0].weight.detach(), start["body.0.weight"])
    groups = next(s for s in saved if s["phase"] == "finetune")["fit"]["optimizer"]["param_groups"]
    peak = sorted({(round(g["initial_lr"], 9), g["weight_decay"]) for g in groups})
    assert peak == [(0.01, 0.0), (0.01, 0.01), (0.1, 0.0), (0.1, 0.01)]  # the body at lr / 10
    assert result.epochs == 2 and all(p.requires_grad for p in model.body.parameters())


def test_lp_ft_keeps_the_probe_when_tuning_only_hurts():
    model = _Probe()
    start = {k: v.clone() for k, v in model.state_dict().items()}

    def loss(rows):
        return -nn.functional.cross_entropy(model(X[rows]), Y[rows])  # tuning makes it worse

    def validate():
        return {"val_loss": float(nn.functional.cross_entropy(model(X), Y))}

    result = finetune(model, head=model.head, body=[model.body], batches=lambda e: [np.arange(40)],
                      loss=loss, steps_per_epoch=1, settings=FinetuneSettings(epochs=3, lr=0.1, patience=2),
                      validate=validate)
    assert result.best_epoch == 0 and result.stopped_early
    for k, v in model.state_dict().items():
        assert torch.equal(v, start[k])
