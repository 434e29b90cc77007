"""Seeded blocks of PyTorch work that leave the caller's random state as it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["seeded"]


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with PyTorch's global generators seeded with ``seed``; restore them afterwards.

    ``torch.manual_seed`` seeds the CPU generator and those of every CUDA device, so the CUDA states are saved
    and restored too where CUDA is available (``fork_rng(devices=[])`` would restore the CPU's alone).
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
