"""Sampling is repeatable with a seed; the copy check flags a planted verbatim span; distinct-n."""

from __future__ import annotations

import pytest

from artlens.errors import ConfigError
from artlens.text import COPY_WORDS, CopyIndex, distinct_n, load_text_model, sample_text
from artlens.text.sample import sample_stream, tidy_text


def test_generation_is_repeatable_with_a_seed(tiny_text_model) -> None:
    model = load_text_model(tiny_text_model)
    first = sample_text(model, prime="The sea\n", lines=3, seed=7)
    assert first == sample_text(model, prime="The sea\n", lines=3, seed=7)
    assert sample_text(model, lines=3, seed=8, rows=2) != sample_text(model, lines=3, seed=9, rows=2)
    assert first[0].startswith("The sea") and len([ln for ln in first[0].splitlines() if ln.strip()]) == 4


def test_the_stream_gives_the_text_of_sample_text_piece_by_piece(tiny_text_model) -> None:
    model = load_text_model(tiny_text_model)
    pieces = list(sample_stream(model, prime="The sea\n", lines=3, seed=7))
    assert pieces[0] == "The sea\n" and len(pieces) > 10
    assert tidy_text("".join(pieces)) == sample_text(model, prime="The sea\n", lines=3, seed=7)[0]


def test_sampling_options_are_checked(tiny_text_model) -> None:
    model = load_text_model(tiny_text_model)
    with pytest.raises(ConfigError, match="temperature"):
        sample_text(model, temperature=0)


CORPUS = ("It was the best of times it was the worst of times it was the age of wisdom it was the age of "
          "foolishness it was the epoch of belief")


def test_the_copy_check_flags_a_planted_span() -> None:
    index = CopyIndex([CORPUS, "another unrelated text about boats"], n=8)
    planted = "my poem: it was the best of times it was the worst of times it was the age; the end"
    report = index.check(planted)
    assert report.copied and report.longest == 16
    assert report.span.startswith("it was the best of times")
    fresh = index.check("the harbour sleeps beneath a grey and patient sky while gulls keep their watch")
    assert not fresh.copied and fresh.longest == 0
    short = index.check("it was the best of times it was the worst")  # 10 words: a span, not a copy
    assert short.longest == 10 and not short.copied and COPY_WORDS == 12


def test_distinct_n() -> None:
    assert distinct_n(["a b a b"], 1) == 0.5
    assert distinct_n(["a b c", "a b d"], 2) == pytest.approx(3 / 4)
    assert distinct_n([""], 2) == 0.0
