"""Diversity of generated texts: distinct-n (Li et al. 2016, "A Diversity-Promoting Objective Function
for Neural Conversation Models", NAACL), the share of distinct word n-grams among all n-grams of a set of
texts."""

from __future__ import annotations

from collections.abc import Iterable

from artlens.text.copycheck import words

__all__ = ["distinct_n"]


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Distinct word ``n``-grams over all word ``n``-grams of ``texts`` (0 when there are none)."""
    grams: list[tuple[str, ...]] = []
    for text in texts:
        tokens = words(text)
        grams.extend(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return len(set(grams)) / len(grams) if grams else 0.0
