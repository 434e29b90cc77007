"""Training checkpoints: the whole run state written atomically, read back safely, resumed exactly.

A checkpoint holds tensors and plain values only (dicts, lists, tuples, numbers, strings), so
``torch.load(weights_only=True)`` reads it without running code from the file. :func:`capture_rng` and
:func:`restore_rng` carry the random generators a run draws from (Python's, NumPy's global one, PyTorch's CPU
and CUDA generators, and any private NumPy or PyTorch generators the trainer names), so a run interrupted
after an epoch and resumed from its checkpoint continues as if it had not stopped.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from artlens.errors import ConfigError, printable
from artlens.files import atomic_write

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "Generator",
    "capture_rng",
    "load_checkpoint",
    "restore_rng",
    "save_checkpoint",
]

#: Marks an artlens checkpoint file; bumped when the layout changes incompatibly.
CHECKPOINT_FORMAT = "artlens.checkpoint/1"

#: A private generator a trainer draws from.
Generator = np.random.Generator | torch.Generator


class CheckpointError(ConfigError):
    """A checkpoint is missing, damaged, foreign or written for other data or settings."""


# ------------------------------------------------------------------------------------------------------------
# Random generators
# ------------------------------------------------------------------------------------------------------------

def _to_plain(value: Any) -> Any:
    """NumPy arrays inside a generator state as tensors (``weights_only`` loading refuses NumPy objects)."""
    if isinstance(value, np.ndarray):
        return {"__ndarray__": torch.from_numpy(value.astype(np.int64)), "dtype": str(value.dtype)}
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    return value


def _from_plain(value: Any) -> Any:
    if isinstance(value, dict) and "__ndarray__" in value:
        return value["__ndarray__"].numpy().astype(value["dtype"])
    if isinstance(value, dict):
        return {k: _from_plain(v) for k, v in value.items()}
    return value


def capture_rng(generators: Mapping[str, Generator] | None = None) -> dict:
    """The state of every random generator a training run may draw from.

    Parameters
    ----------
    generators
        A trainer's private generators by name (``numpy.random.Generator`` or ``torch.Generator``).

    Returns
    -------
    dict
        Python's, NumPy's global, PyTorch's CPU and (where CUDA is present) every CUDA device's state, and the
        named generators' states; checkpoint-safe (tensors and plain values).
    """
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": _to_plain(np.random.get_state(legacy=False)),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "generators": {},
    }
    for name, gen in (generators or {}).items():
        if isinstance(gen, torch.Generator):
            state["generators"][name] = {"torch": gen.get_state()}
        else:
            state["generators"][name] = {"numpy": _to_plain(gen.bit_generator.state)}
    return state


def restore_rng(state: Mapping, generators: Mapping[str, Generator] | None = None) -> None:
    """Put every generator back in the state :func:`capture_rng` recorded (named ones matched by name).

    Raises
    ------
    CheckpointError
        A named generator is missing from ``state`` or is of another kind.
    """
    random.setstate(_python_state(state["python"]))
    np.random.set_state(_from_plain(state["numpy"]))
    torch.set_rng_state(state["torch"])
    cuda = list(state.get("cuda") or [])
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    saved = state.get("generators", {})
    for name, gen in (generators or {}).items():
        entry = saved.get(name)
        kind = "torch" if isinstance(gen, torch.Generator) else "numpy"
        if not isinstance(entry, Mapping) or kind not in entry:
            raise CheckpointError(f"the checkpoint holds no state of the {kind} generator {name!r}; "
                                  "train without resume")
        if kind == "torch":
            gen.set_state(entry["torch"])
        else:
            gen.bit_generator.state = _from_plain(entry["numpy"])


def _python_state(value: Any) -> tuple:
    """``random.setstate`` wants tuples; a state read back may hold lists."""
    version, internal, gauss = value
    return int(version), tuple(int(v) for v in internal), gauss


# ------------------------------------------------------------------------------------------------------------
# Files
# ------------------------------------------------------------------------------------------------------------

def save_checkpoint(path: str | Path, state: Mapping[str, Any], *, fingerprint: str | None = None) -> Path:
    """Write ``state`` to ``path`` atomically (:func:`artlens.files.atomic_write`: a temporary file beside it,
    flushed to disk, then renamed).

    Parameters
    ----------
    path
        The checkpoint file; its folder is created.
    state
        Tensors and plain values only (what :func:`load_checkpoint` can read back safely).
    fingerprint
        What the run was started from (e.g. a hash of data and settings); :func:`load_checkpoint` refuses the
        file for another one.

    Returns
    -------
    pathlib.Path
        ``path``. A reader never sees a half-written file: the old checkpoint stays until the new one is
        complete.
    """
    payload = {"format": CHECKPOINT_FORMAT, "fingerprint": fingerprint, "state": dict(state)}
    return atomic_write(path, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(path: str | Path, *, fingerprint: str | None = None) -> dict[str, Any]:
    """The state saved by :func:`save_checkpoint`, read without running code from the file.

    Parameters
    ----------
    path
        The checkpoint file.
    fingerprint
        When given, the file must have been written with the same one.

    Raises
    ------
    CheckpointError
        One line naming the file: it is missing, damaged, not an artlens checkpoint, or was written for
        other data or settings.
    """
    source = Path(path)
    name = printable(source)
    if not source.is_file():
        raise CheckpointError(f"{name}: no checkpoint to resume from; train without resume to start")
    try:
        saved = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged zip, a pickle of foreign objects...: many exception types
        reason = printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise CheckpointError(f"{name}: the checkpoint cannot be read ({reason[:200]}); "
                              "train without resume") from None
    if not isinstance(saved, dict) or saved.get("format") != CHECKPOINT_FORMAT \
            or not isinstance(saved.get("state"), dict):
        raise CheckpointError(f"{name}: not an artlens training checkpoint ({CHECKPOINT_FORMAT}); "
                              "train without resume")
    if fingerprint is not None and saved.get("fingerprint") != fingerprint:
        raise CheckpointError(f"{name}: the checkpoint was written for other data or settings; resume with "
                              "the same data and settings, or train without resume to start over")
    return saved["state"]
