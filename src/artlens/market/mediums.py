"""Mediums to categories, with arttactic's table of 51,530 auction medium descriptions (MIT licence).

A description found in the table (ignoring case, spacing and punctuation at the ends) takes the category
most of its entries give (the table repeats descriptions, not always with the same category); any other
is classified by a multinomial naive Bayes over its words, trained on the same table
(Manning, Raghavan & Schütze, *Introduction to Information Retrieval*, 2008, ch. 13). The table's
categories, typed by hand with typos and case variants, are folded onto :data:`CATEGORIES`.
"""

from __future__ import annotations

import functools
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from artlens.market.errors import MarketModelError
from artlens.market.xlsx import read_first_sheet

__all__ = ["CATEGORIES", "MediumTable", "load_medium_table", "medium_table_from_rows"]

#: The categories mediums are normalised to.
CATEGORIES = (
    "painting",
    "work on paper",
    "sculpture",
    "photograph",
    "print",
    "new media",
    "textile",
    "other",
)

_FOLD = {
    "painting": "painting",
    "painitng": "painting",
    "paintig": "painting",
    "2d painting": "painting",
    "2d mixed media painting": "painting",
    "3d mixed media painting": "painting",
    "3d painting": "painting",
    "portrait miniature": "painting",
    "triptych": "painting",
    "triptychs": "painting",
    "panel": "painting",
    "oil on canvas": "painting",
    "oil on aluminium": "painting",
    "altarpiece": "painting",
    "mixed media": "painting",
    "mized media": "painting",
    "work on paper": "work on paper",
    "works on paper": "work on paper",
    "drawing": "work on paper",
    "work on paper - drawing": "work on paper",
    "ink on paper and mixed media": "work on paper",
    "sculpture": "sculpture",
    "sulpture": "sculpture",
    "hanging sculpture": "sculpture",
    "edition - sculpture": "sculpture",
    "edition scultpure": "sculpture",
    "sculpture - edition": "sculpture",
    "decorative sculpture": "sculpture",
    "ceramic": "sculpture",
    "ceramics": "sculpture",
    "installation": "sculpture",
    "installtion": "sculpture",
    "relief": "sculpture",
    "photograph": "photograph",
    "photograh": "photograph",
    "photocolour": "photograph",
    "print": "print",
    "etching": "print",
    "print - book": "print",
    "new media": "new media",
    "video": "new media",
    "nft": "new media",
    "digital": "new media",
    "textile": "textile",
    "textiles": "textile",
    "textle": "textile",
    "tapestry": "textile",
    "fabric": "textile",
}


def _key(text: str) -> str:
    return " ".join(text.strip().strip("'\".,;:").lower().split())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]{2,}", text.lower())


@dataclass(frozen=True)
class MediumTable:
    """Exact descriptions with their category, and word counts per category for the rest."""

    exact: dict[str, str]
    word_counts: dict[str, dict[str, int]]
    class_counts: dict[str, int]

    @functools.cached_property
    def _totals(self) -> dict[str, int]:
        return {c: sum(w.values()) for c, w in self.word_counts.items()}

    @functools.cached_property
    def _vocabulary(self) -> int:
        return len({w for counts in self.word_counts.values() for w in counts})

    def category(self, medium: str | None) -> str:
        """The category of one medium description (``"other"`` when it is empty or has no known word)."""
        if not medium or not medium.strip():
            return "other"
        found = self.exact.get(_key(medium))
        if found is not None:
            return found
        words = _words(medium)
        if not any(w in counts for counts in self.word_counts.values() for w in words):
            return "other"
        total = sum(self.class_counts.values())
        best, best_score = "other", -math.inf
        for cat, counts in self.word_counts.items():
            score = math.log(self.class_counts[cat] / total)
            denominator = self._totals[cat] + self._vocabulary
            score += sum(math.log((counts.get(w, 0) + 1) / denominator) for w in words)
            if score > best_score:
                best, best_score = cat, score
        return best

    def categories(self, mediums: Iterable[str | None]) -> list[str]:
        """:meth:`category` of each description, each distinct one classified once."""
        cache: dict[str | None, str] = {}
        return [cache.setdefault(m, self.category(m)) if m not in cache else cache[m] for m in mediums]


def medium_table_from_rows(rows: Iterable[tuple[str, str]]) -> MediumTable:
    """A table from ``(category, description)`` pairs; pairs whose category does not fold are left out."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    words: dict[str, Counter[str]] = defaultdict(Counter)
    classes: Counter[str] = Counter()
    for raw_category, description in rows:
        category = _FOLD.get(_key(raw_category))
        if category is None or not description.strip():
            continue
        votes[_key(description)][category] += 1
        words[category].update(_words(description))
        classes[category] += 1
    exact = {}
    for key, counts in votes.items():
        ranked = counts.most_common(2)
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:  # a tie is left to the word model
            exact[key] = ranked[0][0]
    return MediumTable(exact, {c: dict(w) for c, w in words.items()}, dict(classes))


@functools.cache
def load_medium_table(path: Path | None = None) -> MediumTable:
    """arttactic's medium table, resolved through :mod:`artlens.weights` (``arttactic_mediums``)."""
    from artlens.weights import resolve

    source = resolve("arttactic_mediums", path)
    try:
        rows = read_first_sheet(source)
    except (zipfile.BadZipFile, KeyError, ET.ParseError, ValueError) as exc:
        raise MarketModelError(f"{source}: not a readable medium table ({exc})") from None
    return medium_table_from_rows((r[0], r[1]) for r in rows[1:] if len(r) >= 2)
