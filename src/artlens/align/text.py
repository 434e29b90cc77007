"""The text tower: all-MiniLM-L6-v2 sentence embeddings, offline, from files :mod:`artlens.weights` resolves.

Mean pooling of the last hidden states over the real tokens, then L2 normalisation, as sentence-transformers
does for this model (Reimers & Gurevych, "Sentence-BERT", EMNLP 2019; Wang et al., "MiniLM", NeurIPS 2020).
The network is built from its ``config.json`` and ``model.safetensors`` with :mod:`transformers`; nothing is
ever looked up on a model hub.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import torch

from artlens import weights
from artlens.errors import ConfigError, WeightsError

__all__ = ["TEXT_DIM", "TextEncoder", "get_text_encoder"]

TEXT_DIM = 384
_MAX_TOKENS = 64  # captions, tags and queries are short; the model allows 256


class TextEncoder:
    """MiniLM sentence encoder with a per-process memo of the sentences it has embedded."""

    def __init__(self, model: torch.nn.Module, tokenizer: object) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self._memo: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(N, 384) float32 unit vectors, one per text."""
        texts = [str(t) for t in texts]
        with self._lock:
            todo = sorted({t for t in texts if t not in self._memo})
            for start in range(0, len(todo), batch_size):
                chunk = todo[start:start + batch_size]
                for text, vec in zip(chunk, self._encode(chunk), strict=True):
                    self._memo[text] = vec
            if not texts:
                return np.zeros((0, TEXT_DIM), np.float32)
            return np.stack([self._memo[t] for t in texts]).astype(np.float32, copy=False)

    def _encode(self, texts: list[str]) -> np.ndarray:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=_MAX_TOKENS,
                               return_tensors="pt")
        with torch.inference_mode():
            hidden = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                token_type_ids=batch.get("token_type_ids")).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=1)
        return pooled.float().numpy()


_encoder: TextEncoder | None = None
_encoder_lock = threading.Lock()


def _build() -> TextEncoder:
    try:
        from safetensors.torch import load_file
        from transformers import BertConfig, BertModel, BertTokenizerFast
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ConfigError("the text tower needs transformers: pip install 'artlens[align]'") from exc
    config_path = weights.resolve("minilm_l6_v2_config")
    model_path = weights.resolve("minilm_l6_v2")
    tok_path = weights.resolve("minilm_l6_v2_tokenizer")
    vocab_path = weights.resolve("minilm_l6_v2_vocab")
    try:
        config = BertConfig.from_json_file(str(config_path))
        state = load_file(str(model_path))
    except Exception as exc:  # a damaged file is a message, never a traceback
        raise WeightsError(f"{model_path}: cannot be read as the MiniLM text model: {exc}") from exc
    state = {k.removeprefix("bert."): v for k, v in state.items()}
    model = BertModel(config, add_pooling_layer=False)
    missing, _unexpected = model.load_state_dict(state, strict=False)
    if missing:
        raise WeightsError(f"{model_path}: MiniLM weights lack {len(missing)} tensors (first: {missing[0]})")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab_path), tokenizer_file=str(tok_path),
                                  do_lower_case=True)
    return TextEncoder(model, tokenizer)


def get_text_encoder() -> TextEncoder:
    """The process-wide MiniLM encoder, built on first use from its verified files."""
    global _encoder
    with _encoder_lock:
        if _encoder is None:
            _encoder = _build()
        return _encoder
