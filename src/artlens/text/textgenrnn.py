"""Port of textgenrnn's pretrained character LSTM (Max Woolf, MIT licence) into a :class:`CharLSTM`.

textgenrnn 2.0.0 ships ``textgenrnn_weights.hdf5`` (Keras: a 100-d character embedding, two stacked 128-unit
LSTMs, an attention read-out, trained on several hundred thousand Reddit titles) and its vocabulary
``textgenrnn_vocab.json``; both come from the package's sdist through :mod:`artlens.weights`. The port copies
the embedding row of every character both vocabularies share and the two LSTM layers; the read-out is new (a
linear layer over the last LSTM, as :class:`CharLSTM` has), since textgenrnn's attention layer summarises a
whole window rather than predicting at every step. Keras orders an LSTM's gates input, forget, cell, output,
as PyTorch does. The file holds CuDNNLSTM layers: their kernels are converted gate by gate as Keras
converts them (checked: the ported network with textgenrnn's own attention read-out predicts lines of the
poetry corpus at 2.85 bits per character, against 10.9 without the conversion), then transposed; their two
biases are PyTorch's two.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from artlens.text.errors import TextModelError
from artlens.text.model import TextModel
from artlens.weights import resolve

__all__ = ["TEXTGENRNN_SIZES", "port_textgenrnn", "read_textgenrnn"]

#: The network sizes the port needs: embedding, hidden, layers.
TEXTGENRNN_SIZES = (100, 128, 2)


def read_textgenrnn(weights: str | Path | None = None, vocab: str | Path | None = None
                    ) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """The HDF5 file's arrays by ``layer/name`` (e.g. ``rnn_1/kernel``) and the vocabulary."""
    import h5py

    weights = Path(weights) if weights else resolve("textgenrnn")
    vocab = Path(vocab) if vocab else resolve("textgenrnn_vocab")
    arrays: dict[str, np.ndarray] = {}
    try:
        with h5py.File(weights, "r") as fh:
            def visit(name: str, item: Any) -> None:
                if isinstance(item, h5py.Dataset):
                    parts = name.split("/")
                    arrays[f"{parts[0]}/{parts[-1].split(':')[0]}"] = np.asarray(item)
            fh.visititems(visit)
        chars = json.loads(vocab.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TextModelError(f"{weights}: cannot be read as textgenrnn's weights ({exc})") from None
    return arrays, chars


def _from_cudnn(kernel: np.ndarray, recurrent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CuDNNLSTM's saved kernels in plain-LSTM layout, gate by gate, as Keras converts them on loading
    (``_convert_rnn_weights`` in ``keras/saving/hdf5_format.py``)."""
    kernel = np.hstack([k.T.reshape(k.shape, order="F") for k in np.hsplit(kernel, 4)])
    recurrent = np.hstack([k.T for k in np.hsplit(recurrent, 4)])
    return kernel, recurrent


def port_textgenrnn(model: TextModel, weights: str | Path | None = None,
                    vocab: str | Path | None = None) -> int:
    """Copy textgenrnn's embedding rows and LSTM layers into ``model``; the number of characters matched."""
    config = model.config
    if (config.embed, config.hidden, config.layers) != TEXTGENRNN_SIZES:
        raise TextModelError(f"textgenrnn's weights need embed/hidden/layers {TEXTGENRNN_SIZES}, "
                             f"not {(config.embed, config.hidden, config.layers)}")
    arrays, chars = read_textgenrnn(weights, vocab)
    try:
        table = arrays["embedding/embeddings"]
        matched = 0
        with torch.no_grad():
            for ch, i in model.index.items():
                row = chars.get(ch)
                if row is not None and row < len(table):
                    model.net.embed.weight[i] = torch.from_numpy(table[row])
                    matched += 1
            for k in range(config.layers):
                kernel, recurrent = arrays[f"rnn_{k + 1}/kernel"], arrays[f"rnn_{k + 1}/recurrent_kernel"]
                bias = arrays[f"rnn_{k + 1}/bias"]
                if len(bias) == 8 * config.hidden:
                    kernel, recurrent = _from_cudnn(kernel, recurrent)
                getattr(model.net.lstm, f"weight_ih_l{k}").copy_(torch.from_numpy(kernel.T.copy()))
                getattr(model.net.lstm, f"weight_hh_l{k}").copy_(torch.from_numpy(recurrent.T.copy()))
                gates = 4 * config.hidden  # CuDNNLSTM: input bias then recurrent bias; plain LSTM: one bias
                getattr(model.net.lstm, f"bias_ih_l{k}").copy_(torch.from_numpy(bias[:gates]))
                if len(bias) == 2 * gates:
                    getattr(model.net.lstm, f"bias_hh_l{k}").copy_(torch.from_numpy(bias[gates:]))
                else:
                    getattr(model.net.lstm, f"bias_hh_l{k}").zero_()
    except (KeyError, RuntimeError) as exc:
        raise TextModelError(f"textgenrnn's weights do not have the expected layers ({exc})") from None
    config.init = "textgenrnn"
    return matched
