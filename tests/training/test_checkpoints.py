"""Checkpoint files: atomic, safe to read, one-line errors for damaged or foreign files; generator states."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest
import torch

from artlens.errors import ArtlensError
from artlens.training import CheckpointError, capture_rng, load_checkpoint, restore_rng, save_checkpoint


def _draws(np_gen: np.random.Generator, torch_gen: torch.Generator) -> list:
    return [random.random(), float(np.random.random()), float(torch.rand(1)), float(np_gen.random()),
            float(torch.rand(1, generator=torch_gen))]


def test_generators_are_restored_through_a_checkpoint_file(tmp_path):
    np_gen, torch_gen = np.random.default_rng(5), torch.Generator().manual_seed(7)
    names = {"order": np_gen, "noise": torch_gen}
    path = save_checkpoint(tmp_path / "run" / "ckpt.pt", {"rng": capture_rng(names), "epoch": 3})
    expected = _draws(np_gen, torch_gen)
    other_np, other_torch = np.random.default_rng(0), torch.Generator()
    state = load_checkpoint(path)
    assert state["epoch"] == 3
    restore_rng(state["rng"], {"order": other_np, "noise": other_torch})
    assert _draws(other_np, other_torch) == expected
    with pytest.raises(CheckpointError, match="'missing'"):
        restore_rng(state["rng"], {"missing": np.random.default_rng()})


def test_save_replaces_the_file_whole_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"w": torch.ones(3)})
    save_checkpoint(path, {"w": torch.zeros(3)})
    assert torch.equal(load_checkpoint(path)["w"], torch.zeros(3))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


class _Foreign:
    pass


@pytest.mark.parametrize("write", [
    lambda p: p.write_bytes(b"not a checkpoint at all"),
    lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),  # truncated
    lambda p: torch.save({"epoch": 1}, p),  # a torch file, not an artlens checkpoint
    lambda p: p.write_bytes(pickle.dumps(_Foreign(), protocol=2)),  # would run code with weights_only=False
    lambda p: torch.save({"format": "artlens.checkpoint/1", "state": _Foreign()}, p),
])
def test_damaged_or_foreign_files_give_one_line_errors(tmp_path, write):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"w": torch.ones(1000)})
    write(path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert isinstance(info.value, ArtlensError) and info.value.__cause__ is None
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "without resume" in message


def test_missing_file_and_other_fingerprint(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "none.pt")
    path = save_checkpoint(tmp_path / "ckpt.pt", {"x": 1}, fingerprint="abc")
    assert load_checkpoint(path, fingerprint="abc") == {"x": 1}
    with pytest.raises(CheckpointError, match="other data or settings"):
        load_checkpoint(path, fingerprint="abd")
