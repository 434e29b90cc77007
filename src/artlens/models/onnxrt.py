"""ONNX export and ONNX Runtime sessions, done one way for every model artlens exports or runs on the CPU."""

from __future__ import annotations

import functools
import io
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from artlens.errors import ArtlensError, WeightsError

__all__ = ["OPSET", "cpu_session", "export_module", "weight_session"]

#: ONNX opset of every export.
OPSET = 17


def export_module(module: Any, args: tuple, path: str | Path, *, input_names: Sequence[str],
                  output_names: Sequence[str], dynamic_axes: dict[str, dict[int, str]],
                  source: str | Path) -> Path:
    """Export a ``torch.nn.Module`` to ``path`` (TorchScript exporter, :data:`OPSET`), written atomically.

    Raises
    ------
    ArtlensError
        The exporter failed; one line naming ``source`` and the reason.
    """
    import torch

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args, buffer, input_names=list(input_names),
                              output_names=list(output_names), dynamic_axes=dynamic_axes,
                              opset_version=OPSET, dynamo=False)
    except Exception as exc:  # the exporter raises many types; the user needs the reason, on one line
        raise ArtlensError(f"{source}: ONNX export failed: {' '.join(str(exc).split())[:300]}") from None
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(out)
    return out


def cpu_session(path: str | Path, threads: int | None = None) -> Any:
    """An ONNX Runtime CPU session: ``threads`` intra-op threads (default: PyTorch's count), one inter-op.

    Idle worker threads sleep instead of spinning, so the CPU goes to the pre- and post-processing that runs
    between calls (on 2 cores spinning made the quality model's trunk about 2x slower end to end).
    """
    import onnxruntime as ort

    if threads is None:
        import torch

        threads = torch.get_num_threads()
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


_WEIGHT_LOCK = threading.Lock()


def weight_session(name: str, threads: int, what: str) -> Any:
    """The CPU session (:func:`cpu_session`) of the registered weight file ``name``, one per thread count.

    Sessions are cached per process; ``what`` names the model in errors ("the text detector").

    Raises
    ------
    ArtlensError
        ``threads`` is below 1.
    WeightsError
        The file cannot be resolved, or ONNX Runtime cannot load it.
    """
    if threads < 1:
        raise ArtlensError(f"threads must be at least 1, got {threads}")
    with _WEIGHT_LOCK:
        return _weight_session(name, threads, what)


@functools.lru_cache(maxsize=8)
def _weight_session(name: str, threads: int, what: str) -> Any:
    from artlens.weights import resolve

    path = resolve(name)
    try:
        return cpu_session(path, threads)
    except Exception as exc:  # a corrupt or foreign file: say which weight and what to do
        raise WeightsError(f"cannot load {what} {name} from {path}: {exc}; "
                           f"delete the file to fetch it again") from exc
