"""How a text model reads text: single characters, or byte-level BPE subwords.

* :class:`CharTokens`: one token per character of a fixed alphabet, index 0 for any other character (the
  character model of Graves 2013, arXiv:1308.0850).
* :class:`BpeTokens`: byte-pair encoding (Sennrich, Haddow & Birch, "Neural Machine Translation of Rare Words
  with Subword Units", ACL 2016) over UTF-8 bytes, as GPT-2 does it (Radford et al. 2019): the 256 bytes are
  tokens, so every character of any text is covered, nothing is normalised, and ``decode(encode(text)) ==
  text`` exactly. The merges are learnt on the training split only (:func:`train_bpe`, with Hugging Face
  ``tokenizers``) and kept beside the model as ``tokenizer.json``.

Both give each token's bytes (:meth:`piece`), which is what the sampler writes out.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

from artlens.text.errors import TextModelError

__all__ = ["TOKENIZER_FILE", "BpeTokens", "CharTokens", "Tokens", "char_vocabulary", "line_chunks",
           "train_bpe"]

TOKENIZER_FILE = "tokenizer.json"


class Tokens(Protocol):
    """What a text model needs of its tokenizer."""

    @property
    def vocab_size(self) -> int: ...

    @property
    def newline(self) -> int: ...

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...

    def piece(self, token: int) -> bytes: ...


def char_vocabulary(text: str, max_vocab: int) -> str:
    """The characters a character model keeps: the ``max_vocab`` most frequent of ``text`` (and only those
    seen at least once per 2 M characters), sorted."""
    counts = Counter(text)
    floor = max(1, len(text) // 2_000_000)
    kept = [ch for ch, n in counts.most_common(max_vocab) if n >= floor]
    return "".join(sorted(kept))


class CharTokens:
    """One token per character of ``chars`` (index ``i + 1``); 0 is every other character."""

    def __init__(self, chars: str) -> None:
        self.chars = chars
        self.index = {ch: i + 1 for i, ch in enumerate(chars)}

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 1

    @property
    def newline(self) -> int:
        return self.index.get("\n", 0)

    def encode(self, text: str) -> list[int]:
        index = self.index
        return [index.get(ch, 0) for ch in text]

    def decode(self, ids: list[int]) -> str:
        chars = self.chars
        return "".join(chars[i - 1] for i in ids if 0 < i <= len(chars))

    def piece(self, token: int) -> bytes:
        return self.chars[token - 1].encode("utf-8") if 0 < token <= len(self.chars) else b""


@functools.lru_cache(maxsize=1)
def _byte_symbols() -> dict[str, int]:
    """GPT-2's printable stand-in for each byte (the alphabet of ``tokenizers``' ByteLevel), inverted."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    codes, extra = list(printable), 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, codes, strict=True)}


def _tokenizers() -> Any:
    try:
        import tokenizers
    except ImportError:
        raise TextModelError("subword text models need the 'tokenizers' package (pip install "
                             "'artlens[text]')") from None
    return tokenizers


class BpeTokens:
    """Byte-level BPE tokens of a ``tokenizers.Tokenizer``."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        symbols = _byte_symbols()
        vocab = tokenizer.get_vocab()
        self.pieces: list[bytes] = [b""] * (max(vocab.values()) + 1)
        for text, i in vocab.items():
            self.pieces[i] = bytes(symbols[ch] for ch in text)
        self._newline = vocab[next(k for k, b in symbols.items() if b == 10)]

    @classmethod
    def from_json(cls, text: str, where: str | Path = TOKENIZER_FILE) -> BpeTokens:
        """Tokens from a ``tokenizer.json``'s text (a :class:`TextModelError` naming ``where`` if
        unusable)."""
        tokenizers = _tokenizers()
        try:
            tokens = cls(tokenizers.Tokenizer.from_str(text))
        except Exception as exc:  # the Rust side raises plain Exceptions
            raise TextModelError(f"{where}: not a byte-level BPE tokenizer ({str(exc)[:120]})") from None
        return tokens

    def to_json(self) -> str:
        return self.tokenizer.to_str()

    @property
    def vocab_size(self) -> int:
        return len(self.pieces)

    @property
    def newline(self) -> int:
        return self._newline

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text).ids)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [list(e.ids) for e in self.tokenizer.encode_batch(texts)]

    def decode(self, ids: list[int]) -> str:
        return b"".join(self.pieces[i] for i in ids).decode("utf-8", errors="replace")

    def piece(self, token: int) -> bytes:
        return self.pieces[token]


def train_bpe(text: str, vocab_size: int, *, chunk: int = 100_000) -> BpeTokens:
    """Byte-level BPE merges learnt from ``text`` (the training split) up to ``vocab_size`` tokens, the 256
    bytes included; no special tokens and no normaliser, so every text is covered exactly."""
    tokenizers = _tokenizers()
    from tokenizers import decoders, models, pre_tokenizers, trainers

    if vocab_size < 257:
        raise TextModelError(f"a byte-level vocabulary needs more than 256 tokens, not {vocab_size}")
    tokenizer = tokenizers.Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(line_chunks(text, chunk), trainer)
    return BpeTokens(tokenizer)


def line_chunks(text: str, size: int) -> list[str]:
    """``text`` in pieces of about ``size`` characters, each cut after a line end (so no word is split)."""
    pieces, start = [], 0
    while start < len(text):
        end = text.find("\n", start + size)
        end = len(text) if end < 0 else end + 1
        pieces.append(text[start:end])
        start = end
    return pieces
