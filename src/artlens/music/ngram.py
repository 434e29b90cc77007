"""An interpolated Kneser-Ney n-gram model of token sequences: the baseline the LSTM must beat.

Kneser & Ney 1995 ("Improved backing-off for m-gram language modeling", ICASSP), in the interpolated form of
Chen & Goodman 1999 ("An empirical study of smoothing techniques for language modeling", Computer Speech and
Language 13): absolute discounting with one discount per order, ``D = n1 / (n1 + 2 n2)`` from the counts of
n-grams seen once and twice, lower orders estimated from continuation counts (how many different tokens
precede an n-gram), and the unigram level interpolated with the uniform distribution so that no token has
zero probability.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

__all__ = ["KneserNey"]


class KneserNey:
    """An order-``n`` interpolated Kneser-Ney model over a vocabulary of ``vocab_size`` tokens.

    The first token of every sequence (``<start>``) is context only, never predicted, as for the LSTM.
    """

    def __init__(self, order: int, vocab_size: int) -> None:
        if order < 1:
            raise ValueError("order must be at least 1")
        self.order, self.vocab_size = order, vocab_size
        # per context length k (0 .. order-1): counts[k][context][token] (highest order: true counts,
        # lower orders: continuation counts)
        self._counts: list[dict[tuple[int, ...], Counter[int]]] = []
        self._discount = [0.75] * order
        self._totals: list[dict[tuple[int, ...], int]] = []
        self._types: list[dict[tuple[int, ...], int]] = []

    def fit(self, sequences: Iterable[Sequence[int]]) -> KneserNey:
        """Count the n-grams of ``sequences`` and set the discounts."""
        top = self.order - 1
        # true counts by context length; below the top only contexts cut short by a sequence's start
        true: list[dict[tuple[int, ...], Counter[int]]] = [defaultdict(Counter) for _ in range(self.order)]
        for seq in sequences:
            seq = list(seq)
            for i in range(1, len(seq)):
                context = tuple(seq[max(0, i - top):i])
                true[len(context)][context][seq[i]] += 1
        counts = true[top]
        self._counts = [counts]
        for k in range(top - 1, -1, -1):
            level: dict[tuple[int, ...], Counter[int]] = defaultdict(Counter)
            for context, tokens in counts.items():  # continuation counts: distinct left neighbours
                for token in tokens:
                    level[context[1:]][token] += 1
            for context, tokens in true[k].items():  # contexts at a sequence's start keep true counts
                level[context].update(tokens)
            counts = level
            self._counts.insert(0, level)
        self._totals = [{c: sum(t.values()) for c, t in level.items()} for level in self._counts]
        self._types = [{c: len(t) for c, t in level.items()} for level in self._counts]
        for k, level in enumerate(self._counts):
            n1 = sum(1 for t in level.values() for n in t.values() if n == 1)
            n2 = sum(1 for t in level.values() for n in t.values() if n == 2)
            self._discount[k] = n1 / (n1 + 2 * n2) if n1 and n2 else 0.75
        return self

    def prob(self, context: Sequence[int], token: int) -> float:
        """P(token | the last ``order - 1`` tokens of context)."""
        context = tuple(context[-(self.order - 1):]) if self.order > 1 else ()
        p = 1.0 / self.vocab_size
        for k in range(0, len(context) + 1):
            ctx = context[len(context) - k:] if k else ()
            total = self._totals[k].get(ctx, 0)
            if total == 0:
                continue
            d = self._discount[k]
            count = self._counts[k].get(ctx, {}).get(token, 0)
            p = max(count - d, 0.0) / total + d * self._types[k][ctx] / total * p
        return p

    def nll(self, sequences: Iterable[Sequence[int]]) -> tuple[float, int]:
        """Summed negative log-likelihood (nats) of every token but each sequence's first, and the count."""
        total, count = 0.0, 0
        top = self.order - 1
        for seq in sequences:
            seq = list(seq)
            for i in range(1, len(seq)):
                total -= math.log(self.prob(seq[max(0, i - top):i], seq[i]))
                count += 1
        return total, count
