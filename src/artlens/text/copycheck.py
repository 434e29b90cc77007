"""The plagiarism check: the longest run of words a text copies verbatim from a training corpus.

Words are lower-cased runs of letters, digits and apostrophes. The corpus's ``n``-word shingles are hashed
once into a sorted array (:class:`CopyIndex`); a text's longest copied span is then found by joining runs of
consecutive shingles that all occur in the corpus, the shingling approach to near-duplicate text (Broder
1997, "On the resemblance and containment of documents", SEQUENCES). A shingle's hash is a 64-bit
polynomial over word numbers, so a false match is vanishingly rare.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

__all__ = ["COPY_WORDS", "CopyIndex", "CopyReport", "words"]

#: A verbatim span this long or longer counts as copied (issue #32's threshold).
COPY_WORDS = 12
_WORD = re.compile(r"[\w']+")
_BASE = np.uint64(1_000_003)


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class CopyReport:
    """The longest verbatim span in words (0 when shorter than the index's ``n``), the span, and whether it
    reaches the threshold."""

    longest: int
    span: str
    copied: bool


class CopyIndex:
    """The ``n``-word shingles of a corpus; :meth:`check` finds a text's longest span copied from it."""

    def __init__(self, corpus: str | Iterable[str], n: int = 8) -> None:
        if n < 1:
            raise ValueError("n must be at least 1")
        self.n = n
        self._ids: dict[str, int] = {}
        texts = [corpus] if isinstance(corpus, str) else corpus
        parts = [self._hashes(words(text), grow=True) for text in texts]
        self._table = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.uint64)

    def _hashes(self, tokens: list[str], *, grow: bool) -> np.ndarray:
        if grow:
            ids = self._ids
            numbers = np.fromiter((ids.setdefault(w, len(ids) + 1) for w in tokens), np.uint64, len(tokens))
        else:
            numbers = np.fromiter((self._ids.get(w, 0) for w in tokens), np.uint64, len(tokens))
        count = len(numbers) - self.n + 1
        if count <= 0:
            return np.zeros(0, np.uint64)
        out = np.zeros(count, np.uint64)
        with np.errstate(over="ignore"):
            for k in range(self.n):
                out = out * _BASE + numbers[k:k + count]
        return out

    def check(self, text: str, threshold: int = COPY_WORDS) -> CopyReport:
        """The longest span of ``text`` found verbatim in the corpus, and whether it reaches ``threshold``."""
        tokens = words(text)
        hashes = self._hashes(tokens, grow=False)
        found = np.isin(hashes, self._table) if len(self._table) else np.zeros(len(hashes), bool)
        best, best_at, run = 0, 0, 0
        for i, hit in enumerate(found):
            run = run + 1 if hit else 0
            if run and run + self.n - 1 > best:
                best, best_at = run + self.n - 1, i - run + 1
        span = " ".join(tokens[best_at:best_at + best]) if best else ""
        return CopyReport(best, span, best >= threshold)
