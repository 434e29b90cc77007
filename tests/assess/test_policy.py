"""Policies: presets load, YAML files are validated with errors naming the bad key, verdicts follow rules."""

from __future__ import annotations

import pytest

from artlens.assess.policy import RULES, evaluate, list_presets, load_policy, verdict_of
from artlens.errors import PolicyError


def test_every_preset_loads_and_only_uses_known_rules() -> None:
    names = list_presets()
    assert {"general", "amazon", "walmart", "ebay", "google", "art"} <= set(names)
    for name in names:
        policy = load_policy(name)
        assert policy.name == name
        assert set(policy.rules) <= set(RULES)
        assert len(policy.sha256()) == 64


def test_marketplace_presets_carry_the_published_rules() -> None:
    amazon = load_policy("amazon")
    assert amazon.rules["background_white"].min == 0.95
    assert amazon.rules["product_fill"].review_min == 0.85
    assert amazon.rules["longest_side"].min == 500 and amazon.rules["longest_side"].review_min == 1000
    assert "GIF" in amazon.rules["file_format"].allowed
    walmart = load_policy("walmart")
    assert "GIF" not in walmart.rules["file_format"].allowed and walmart.rules["file_size_mb"].max == 5
    assert "background_white" not in load_policy("ebay").rules
    assert "background_white" not in load_policy("art").rules


def _write(tmp_path, text: str):
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_custom_policy_extends_and_overrides(tmp_path) -> None:
    path = _write(tmp_path, "name: shop\nextends: amazon\nrules:\n  product_fill: {min: 0.5}\n"
                            "  text_on_product: off\n  longest_side: {min: 1600}\n")
    policy = load_policy(path)
    assert policy.name == "shop"
    assert policy.rules["product_fill"].min == 0.5 and policy.rules["product_fill"].review_min is None
    assert "text_on_product" not in policy.rules
    assert policy.rules["longest_side"].min == 1600
    assert policy.rules["background_white"].min == 0.95  # inherited
    assert policy.sha256() != load_policy("amazon").sha256()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("rulez: {}\n", "unknown key 'rulez'"),
        ("rules:\n  backgroud_white: {min: 0.9}\n", "did you mean 'background_white'"),
        ("rules:\n  product_fill: {minimum: 0.9}\n", "rules.product_fill: unknown threshold 'minimum'"),
        ("rules:\n  product_fill: {min: 85}\n", "rules.product_fill.min is a fraction"),
        ("rules:\n  quality: {min: fifty}\n", "rules.quality.min must be a number"),
        ("rules:\n  quality: {min: 60, review_min: 50}\n", "review_min (50) must not be below min (60)"),
        ("rules:\n  file_format: {allowed: JPEG}\n", "rules.file_format.allowed must be a list"),
        ("rules:\n  quality: 50\n", "rules.quality must be a mapping"),
        ("extends: nosuchpreset\n", "neither a preset"),
        ("rules: [1, 2]\n", "'rules' must be a mapping"),
        ("rules:\n  quality: {min: 1\n", "invalid YAML at line"),
        ("- just\n- a list\n", "a policy must be a mapping"),
    ],
)
def test_bad_policy_files_name_the_problem(tmp_path, text: str, needle: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = str(info.value)
    assert needle in message
    assert str(path) in message or "preset" in message
    assert "\n" not in message


def test_extends_cycle_is_reported(tmp_path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(f"extends: {b}\n")
    b.write_text(f"extends: {a}\n")
    with pytest.raises(PolicyError, match="cycle"):
        load_policy(a)


def test_unknown_policy_name_suggests_a_preset() -> None:
    with pytest.raises(PolicyError, match="did you mean 'amazon'"):
        load_policy("amazn")


def test_evaluate_gives_fail_review_pass_with_readable_messages() -> None:
    policy = load_policy("amazon")
    checks = evaluate(policy, {"background_white": 0.71, "product_fill": 0.80, "longest_side": 1200,
                               "file_format": "WEBP", "border": 0, "quality": 80.0})
    by_id = {c.id: c for c in checks}
    assert by_id["background_white"].status == "fail"
    assert by_id["background_white"].message == "background is 71% white, needs 95%"
    assert by_id["product_fill"].status == "review"
    assert by_id["product_fill"].threshold == 0.85
    assert by_id["longest_side"].status == "pass"
    assert by_id["file_format"].status == "fail" and "WEBP is not accepted" in by_id["file_format"].message
    assert by_id["border"].status == "pass"
    verdict, reasons = verdict_of(checks)
    assert verdict == "fail"
    assert "background is 71% white, needs 95%" in reasons
    assert reasons.index("background is 71% white, needs 95%") < len(reasons) - 1  # fails come before reviews
    assert any("product fills 80%" in r for r in reasons)


def test_verdict_review_and_pass() -> None:
    policy = load_policy("amazon")
    review = evaluate(policy, {"longest_side": 900, "quality": 90.0})
    assert verdict_of(review) == ("review", ["image is 900 px on its longest side, needs at least 1000 px"])
    ok = evaluate(policy, {"longest_side": 2000, "quality": 90.0})
    assert verdict_of(ok) == ("pass", [])


def test_missing_measurements_are_skipped_not_failed() -> None:
    checks = evaluate(load_policy("amazon"), {"quality": 90.0})
    assert [c.id for c in checks] == ["quality"]


def test_exposure_message_carries_the_detail() -> None:
    checks = evaluate(load_policy("general"), {"exposure": 10.0}, {"exposure": "too dark"})
    assert checks[0].status == "fail"
    assert "too dark" in checks[0].message
