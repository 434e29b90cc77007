"""Messages show the comparison the policy made: never "x%, needs x%" on a fail or a review."""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

from artlens.assess.policy import (
    RULES,
    CheckResult,
    Policy,
    Rule,
    evaluate,
    format_comparison,
    load_policy,
    reason_checks,
    verdict_of,
)

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
#: Thresholds a policy might use, per kind of value.
_FRACTIONS = (0.0, 0.002, 0.01, 0.05, 0.333, 0.5, 0.85, 0.9, 0.95, 0.955, 0.999, 1.0)
_OTHERS = (0.5, 1.0, 1.25, 2.0, 20.0, 35.0, 55.0, 99.5, 500.0, 1000.0, 1600.0)


def _parse(template: str, message: str) -> tuple[float | None, float | None]:
    """The numbers the message shows for {value} and {threshold} (None where the template has none)."""
    pattern = re.escape(template)
    for key, group in (("value", "(?P<value>.+?)"), ("threshold", "(?P<threshold>.+?)"), ("detail", ".*?")):
        pattern = pattern.replace(re.escape("{" + key + "}"), group)
    match = re.fullmatch(pattern, message)
    assert match, (template, message)
    found = match.groupdict()
    number = {k: float(_NUMBER.search(v).group()) for k, v in found.items() if v is not None}
    return number.get("value"), number.get("threshold")


def _values_near(threshold: float, rng: np.random.Generator, fraction: bool) -> list[float]:
    out = []
    for rel in (1e-1, 1e-2, 5e-3, 1e-3, 1e-4, 1e-6, 1e-9):
        step = rel * max(abs(threshold), 1e-3)
        out += [threshold - step, threshold + step]
    out += list(threshold + rng.normal(0, 0.02 * max(abs(threshold), 1e-2), 40))
    out += [threshold - 0.0024, threshold + 0.0024, threshold - 0.006, threshold + 0.006]  # 0.9476 vs 0.95
    return [v for v in out if not fraction or 0.0 <= v <= 1.0]


@pytest.mark.parametrize("rule_id", [r for r, s in RULES.items() if s.kind == "numeric"])
def test_message_never_shows_the_threshold_as_the_value_on_a_fail_or_review(rule_id: str) -> None:
    spec = RULES[rule_id]
    rng = np.random.default_rng(zlib.crc32(rule_id.encode()))
    seen = {"fail": 0, "review": 0}
    for threshold in _FRACTIONS if spec.fraction else _OTHERS:
        for key in ("min", "max", "review_min", "review_max"):
            template = spec.too_low if key.endswith("min") else spec.too_high
            if not template:
                continue
            policy = Policy("t", "", "", {rule_id: Rule(rule_id, **{key: threshold})})
            for value in _values_near(threshold, rng, spec.fraction):
                checks = evaluate(policy, {rule_id: value}, {rule_id: "detail"})
                (check,) = checks
                if check.status == "pass":
                    continue
                seen[check.status] += 1
                shown_value, shown_threshold = _parse(template, check.message)
                below = key.endswith("min")
                if shown_threshold is None:  # "covers 0.21% of the frame": the threshold as it would be shown
                    shown = format_comparison(spec.fmt, value, threshold, below)[1]
                    shown_threshold = float(_NUMBER.search(shown).group())
                assert shown_value != shown_threshold, check.message
                assert (shown_value < shown_threshold) == below, (value, threshold, check.message)
    assert seen["fail"] > 50 and seen["review"] > 50


def test_the_issue_examples_read_the_right_way() -> None:
    policy = load_policy("amazon")
    (check,) = evaluate(policy, {"background_white": 0.9476})
    assert check.status == "fail" and check.message == "background is 94.8% white, needs 95%"
    general = Policy("t", "", "", {"exposure": Rule("exposure", min=20.0)})
    (check,) = evaluate(general, {"exposure": 19.99}, {"exposure": "too dark"})
    assert check.message == "image is badly exposed (too dark; exposure 19.99/100, needs 20/100)"


def test_usual_values_keep_their_usual_precision() -> None:
    assert format_comparison(RULES["background_white"].fmt, 0.71, 0.95, True) == ("71%", "95%")
    assert format_comparison(RULES["longest_side"].fmt, 900, 1000, True) == ("900 px", "1000 px")
    # a threshold is shown exactly, the value at least as precisely
    assert format_comparison(RULES["product_fill"].fmt, 0.949, 0.955, True) == ("94.9%", "95.5%")


def _check(rule_id: str, status: str) -> CheckResult:
    return CheckResult(rule_id, status, 1.0, 2.0, f"{rule_id} is {status}")


def test_reasons_carry_their_own_status_fails_first() -> None:
    checks = [_check("sharpness", "review"), _check("quality", "pass"), _check("background_white", "fail"),
              _check("product_fill", "review")]
    behind = reason_checks(checks)
    assert [(c.id, c.status) for c in behind] == [("background_white", "fail"), ("sharpness", "review"),
                                                   ("product_fill", "review")]
    assert verdict_of(checks) == ("fail", [c.message for c in behind])
    assert verdict_of([_check("sharpness", "review")])[0] == "review"
    assert verdict_of([_check("quality", "pass")]) == ("pass", [])
