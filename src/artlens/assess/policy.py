"""Screening policies: which rules apply, their thresholds, and how measurements become verdicts.

A policy is a small YAML document::

    name: my-shop
    extends: amazon            # optional: start from a preset (or another file) and override
    rules:
      product_fill: {min: 0.80, review_min: 0.90}
      text_on_product: off     # switch an inherited rule off
      quality: {min: 35, review_min: 55}

Every rule has an id from :data:`RULES`. Numeric rules take ``min``/``max`` (outside them the check fails) and
``review_min``/``review_max`` (outside them, but within the hard bounds, the image goes to review). Set rules
(``file_format``) take ``allowed`` and optionally ``review`` (accepted, but flagged). The presets shipped in
``artlens/quality/presets/*.yaml`` are loaded with the same validator as user files; ``docs/policies.md``
cites the published marketplace rules behind each threshold.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from artlens.errors import PolicyError

__all__ = [
    "RULES",
    "VERDICTS",
    "CheckResult",
    "Policy",
    "RuleSpec",
    "evaluate",
    "format_comparison",
    "list_presets",
    "load_policy",
    "reason_checks",
    "verdict_of",
]

#: The verdicts, best first.
VERDICTS = ("pass", "review", "fail")

_TOP_KEYS = ("name", "description", "source", "extends", "rules")
_NUMERIC_KEYS = ("min", "max", "review_min", "review_max")
_SET_KEYS = ("allowed", "review")
_OFF = {"off", "false", "no", "disabled"}


# Formatters: ``fmt(value, extra)`` shows a value with ``extra`` more decimals than its usual precision.

def _pct(v: float, extra: int = 0) -> str:
    base = 0 if abs(v * 100 - round(v * 100)) < 0.05 or v >= 0.1 else 1
    return f"{v * 100:.{base + extra}f}%"


def _px(v: float, extra: int = 0) -> str:
    return f"{v:.{extra}f} px"


def _score(v: float, extra: int = 0) -> str:
    return f"{v:.{extra}f}/100"


def _mb(v: float, extra: int = 0) -> str:
    return f"{v:.{1 + extra}f} MB"


def _mp(v: float, extra: int = 0) -> str:
    return f"{v:.{1 + extra}f} MP"


def _ratio(v: float, extra: int = 0) -> str:
    return f"{v:.{2 + extra}f}:1"


def _count(v: float, extra: int = 0) -> str:
    return f"{v:.{extra}f}"


def _word(v: object, extra: int = 0) -> str:
    return str(v)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
#: Most extra decimals a message shows (a value this close to its threshold is shown in full beyond it).
_MAX_EXTRA = 12


def _shown(text: str) -> float:
    """The number a formatted value shows (its first number)."""
    match = _NUMBER.search(text)
    if match is None:
        raise PolicyError(f"formatted value {text!r} shows no number")
    return float(match.group())


def format_comparison(fmt: Callable[[float, int], str], value: float, threshold: float,
                      below: bool) -> tuple[str, str]:
    """``value`` and ``threshold`` as a message shows them, so that the shown comparison is the one made.

    The threshold gets the fewest extra decimals that show it exactly (0.955 as "95.5%", not "96%"); the
    value at least as many, and more until the shown value lies on the same side of the shown threshold as
    the value does of the threshold: below it when ``below`` (a ``min``/``review_min`` missed), above it
    otherwise. So 0.9476 against 0.95 reads "94.8%, needs 95%", never "95%, needs 95%", and 19.99 against
    20 reads "19.99/100".
    """
    def exact(t: float, extra: int) -> bool:
        return math.isclose(_shown(fmt(t, extra)), _shown(fmt(t, _MAX_EXTRA)), rel_tol=1e-12, abs_tol=1e-12)

    t_extra = next((e for e in range(_MAX_EXTRA) if exact(threshold, e)), _MAX_EXTRA)
    shown_threshold = fmt(threshold, t_extra)
    limit = _shown(shown_threshold)
    for extra in range(t_extra, _MAX_EXTRA + 1):
        shown_value = fmt(value, extra)
        v = _shown(shown_value)
        if (v < limit) if below else (v > limit):
            return shown_value, shown_threshold
    return repr(value), repr(threshold)


@dataclass(frozen=True)
class RuleSpec:
    """What a rule measures and how to talk about it."""

    id: str
    kind: str  # "numeric" or "set"
    label: str  # what the value is, for messages: "background is {value} white"
    fmt: Callable[[float, int], str]  # (value, extra decimals) -> words, see format_comparison
    fraction: bool = False  # thresholds must lie in [0, 1]
    group: str = "quality"  # "quality", "size", "compliance"
    too_low: str = ""  # message templates; {value} and {threshold} are formatted with fmt
    too_high: str = ""


RULES: dict[str, RuleSpec] = {
    r.id: r
    for r in (
        RuleSpec("quality", "numeric", "overall quality", _score,
                 too_low="overall quality is {value}, needs {threshold}"),
        RuleSpec("sharpness", "numeric", "sharpness", _score,
                 too_low="image looks blurry (sharpness {value}, needs {threshold})"),
        RuleSpec("noise", "numeric", "noise score", _score,
                 too_low="image looks noisy or grainy (noise score {value}, needs {threshold})"),
        RuleSpec("exposure", "numeric", "exposure", _score,
                 too_low="image is badly exposed ({detail}; exposure {value}, needs {threshold})"),
        RuleSpec("contrast", "numeric", "contrast", _score,
                 too_low="image looks flat or washed out (contrast {value}, needs {threshold})"),
        RuleSpec("colour_cast", "numeric", "colour balance", _score,
                 too_low="image has a colour cast (colour balance {value}, needs {threshold})"),
        RuleSpec("blockiness", "numeric", "compression", _score,
                 too_low="image shows compression artefacts (compression score {value}, needs {threshold})"),
        RuleSpec("brisque", "numeric", "BRISQUE quality", _score,
                 too_low="image statistics look distorted (BRISQUE score {value}, needs {threshold})"),
        RuleSpec("niqe", "numeric", "NIQE quality", _score,
                 too_low="image statistics look distorted (NIQE score {value}, needs {threshold})"),
        RuleSpec("longest_side", "numeric", "longest side", _px, group="size",
                 too_low="image is {value} on its longest side, needs at least {threshold}",
                 too_high="image is {value} on its longest side, at most {threshold} allowed"),
        RuleSpec("shortest_side", "numeric", "shortest side", _px, group="size",
                 too_low="image is {value} on its shortest side, needs at least {threshold}",
                 too_high="image is {value} on its shortest side, at most {threshold} allowed"),
        RuleSpec("megapixels", "numeric", "resolution", _mp, group="size",
                 too_low="image has {value}, needs at least {threshold}",
                 too_high="image has {value}, at most {threshold} allowed"),
        RuleSpec("aspect_ratio", "numeric", "aspect ratio (width:height)", _ratio, group="size",
                 too_low="aspect ratio is {value} (width:height), needs at least {threshold}",
                 too_high="aspect ratio is {value} (width:height), at most {threshold} allowed"),
        RuleSpec("file_size_mb", "numeric", "file size", _mb, group="size",
                 too_high="file is {value}, limit {threshold}"),
        RuleSpec("file_format", "set", "file format", _word, group="size"),
        RuleSpec("background_white", "numeric", "white background", _pct, fraction=True, group="compliance",
                 too_low="background is {value} white, needs {threshold}"),
        RuleSpec("background_light", "numeric", "white or light background", _pct, fraction=True,
                 group="compliance",
                 too_low="background is {value} white or light, needs {threshold}"),
        RuleSpec("product_fill", "numeric", "product fill", _pct, fraction=True, group="compliance",
                 too_low="product fills {value} of the frame, needs {threshold}",
                 too_high="product fills {value} of the frame, at most {threshold}"),
        RuleSpec("border", "numeric", "added border", _count, group="compliance",
                 too_high="image has an added border or frame on {value} side(s)"),
        RuleSpec("text_overlay", "numeric", "text or watermark", _pct, fraction=True, group="compliance",
                 too_high="text, logo or watermark added over the image (covers {value} of the frame)"),
        RuleSpec("text_on_product", "numeric", "text on the product", _pct, fraction=True, group="compliance",
                 too_high="text found on the product (covers {value} of the frame): check it is printed on "
                          "the product, not added"),
    )
}


@dataclass(frozen=True)
class Rule:
    """One enabled rule of a policy with its thresholds."""

    id: str
    min: float | None = None
    max: float | None = None
    review_min: float | None = None
    review_max: float | None = None
    allowed: tuple[str, ...] = ()
    review: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in _NUMERIC_KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.allowed:
            out["allowed"] = list(self.allowed)
        if self.review:
            out["review"] = list(self.review)
        return out


@dataclass(frozen=True)
class Policy:
    """A validated, fully resolved policy (inheritance already applied)."""

    name: str
    description: str
    source: str
    rules: Mapping[str, Rule]

    def enabled(self, rule_id: str) -> bool:
        return rule_id in self.rules

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "rules": {k: self.rules[k].as_dict() for k in sorted(self.rules)},
        }

    def sha256(self) -> str:
        """Digest of the canonical JSON of the resolved rules (keys results in the store)."""
        canonical = json.dumps({"rules": self.as_dict()["rules"]}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.as_dict(), sort_keys=False, allow_unicode=True)


# ----------------------------------------------------------------------------------------------------------
# Loading and validation
# ----------------------------------------------------------------------------------------------------------


def list_presets() -> list[str]:
    """Names of the shipped presets."""
    folder = resources.files("artlens.assess") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _preset_text(name: str) -> str | None:
    resource = resources.files("artlens.assess") / "presets" / f"{name}.yaml"
    return resource.read_text(encoding="utf-8") if resource.is_file() else None


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_policy(spec: str | Path = "general") -> Policy:
    """Load a preset by name or a YAML policy file by path, resolving ``extends`` chains.

    Raises
    ------
    PolicyError
        Naming the file and the bad key, for every problem found first.
    """
    return _load(str(spec), chain=())


def _load(spec: str, chain: tuple[str, ...]) -> Policy:
    if spec in chain:
        raise PolicyError(f"policy {spec}: 'extends' forms a cycle ({' -> '.join((*chain, spec))})")
    text = _preset_text(spec)
    origin = f"preset {spec!r}"
    if text is None:
        path = Path(spec).expanduser()
        if not path.is_file():
            presets = list_presets()
            raise PolicyError(
                f"policy {spec!r} is neither a preset ({', '.join(presets)}) nor a readable YAML file"
                + _suggest(spec, presets)
            )
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{origin}: cannot read policy file: {exc}") from exc
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise PolicyError(f"{origin}: invalid YAML{where}: {problem}") from exc
    return _from_document(doc, origin, (*chain, spec))


def _from_document(doc: object, origin: str, chain: tuple[str, ...]) -> Policy:
    if not isinstance(doc, dict):
        raise PolicyError(f"{origin}: a policy must be a mapping with keys {', '.join(_TOP_KEYS)}")
    for key in doc:
        if key not in _TOP_KEYS:
            raise PolicyError(f"{origin}: unknown key {key!r}{_suggest(str(key), list(_TOP_KEYS))}; "
                              f"allowed: {', '.join(_TOP_KEYS)}")
    for key in ("name", "description", "source", "extends"):
        if key in doc and doc[key] is not None and not isinstance(doc[key], str):
            raise PolicyError(f"{origin}: {key!r} must be a string")
    rules: dict[str, Rule] = {}
    base_name = ""
    if doc.get("extends"):
        base = _load(doc["extends"], chain)
        rules.update(base.rules)
        base_name = base.name
    raw_rules = doc.get("rules") or {}
    if not isinstance(raw_rules, dict):
        raise PolicyError(f"{origin}: 'rules' must be a mapping of rule id to thresholds")
    for rule_id, body in raw_rules.items():
        rule_id = str(rule_id)
        if rule_id not in RULES:
            raise PolicyError(f"{origin}: unknown rule {rule_id!r}{_suggest(rule_id, list(RULES))}; "
                              f"known rules: {', '.join(RULES)}")
        if body is None or body is False or (isinstance(body, str) and body.lower() in _OFF):
            rules.pop(rule_id, None)
            continue
        rules[rule_id] = _parse_rule(rule_id, body, origin)
    name = doc.get("name") or (Path(origin).stem if base_name == "" else f"{base_name}+custom")
    return Policy(name=name, description=doc.get("description") or "", source=doc.get("source") or "",
                  rules=dict(rules))


def _parse_rule(rule_id: str, body: object, origin: str) -> Rule:
    spec = RULES[rule_id]
    where = f"{origin}: rules.{rule_id}"
    if not isinstance(body, dict):
        raise PolicyError(f"{where} must be a mapping of thresholds, or 'off'")
    allowed_keys = _NUMERIC_KEYS if spec.kind == "numeric" else _SET_KEYS
    for key in body:
        if key not in allowed_keys:
            raise PolicyError(f"{where}: unknown threshold {key!r}{_suggest(str(key), list(allowed_keys))}; "
                              f"allowed: {', '.join(allowed_keys)}")
    if not body:
        raise PolicyError(f"{where}: give at least one of {', '.join(allowed_keys)}")
    if spec.kind == "set":
        values: dict[str, tuple[str, ...]] = {}
        for key in _SET_KEYS:
            items = body.get(key, [])
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise PolicyError(f"{where}.{key} must be a list of format names, e.g. [JPEG, PNG]")
            values[key] = tuple(i.upper() for i in items)
        if not values["allowed"]:
            raise PolicyError(f"{where}.allowed must list at least one format")
        return Rule(rule_id, allowed=values["allowed"], review=values["review"])
    numbers: dict[str, float] = {}
    for key in _NUMERIC_KEYS:
        if key not in body or body[key] is None:
            continue
        value = body[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise PolicyError(f"{where}.{key} must be a number, got {value!r}")
        if spec.fraction and not 0.0 <= value <= 1.0:
            raise PolicyError(f"{where}.{key} is a fraction and must lie in [0, 1], got {value}")
        numbers[key] = float(value)
    lo, rlo = numbers.get("min"), numbers.get("review_min")
    hi, rhi = numbers.get("max"), numbers.get("review_max")
    if lo is not None and rlo is not None and rlo < lo:
        raise PolicyError(f"{where}: review_min ({rlo:g}) must not be below min ({lo:g})")
    if hi is not None and rhi is not None and rhi > hi:
        raise PolicyError(f"{where}: review_max ({rhi:g}) must not be above max ({hi:g})")
    if lo is not None and hi is not None and lo > hi:
        raise PolicyError(f"{where}: min ({lo:g}) must not be above max ({hi:g})")
    return Rule(rule_id, **numbers)


# ----------------------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """One rule applied to one image."""

    id: str
    status: str  # "pass", "review" or "fail"
    value: float | str | None
    threshold: float | str | list[str] | None
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "passed": self.passed, "value": self.value,
                "threshold": self.threshold, "message": self.message}


def _check_numeric(rule: Rule, spec: RuleSpec, value: float, detail: str) -> CheckResult:
    def say(template: str, threshold: float, below: bool) -> str:
        shown_value, shown_threshold = format_comparison(spec.fmt, value, threshold, below)
        return template.format(value=shown_value, threshold=shown_threshold, detail=detail)

    if rule.min is not None and value < rule.min:
        return CheckResult(rule.id, "fail", value, rule.min, say(spec.too_low, rule.min, True))
    if rule.max is not None and value > rule.max:
        return CheckResult(rule.id, "fail", value, rule.max, say(spec.too_high, rule.max, False))
    if rule.review_min is not None and value < rule.review_min:
        return CheckResult(rule.id, "review", value, rule.review_min,
                           say(spec.too_low, rule.review_min, True))
    if rule.review_max is not None and value > rule.review_max:
        return CheckResult(rule.id, "review", value, rule.review_max,
                           say(spec.too_high, rule.review_max, False))
    bounds = (rule.review_min, rule.min, rule.review_max, rule.max)
    threshold = next((t for t in bounds if t is not None), None)
    return CheckResult(rule.id, "pass", value, threshold, f"{spec.label} {spec.fmt(value)} is fine")


def _check_set(rule: Rule, value: str) -> CheckResult:
    shown = ", ".join(rule.allowed)
    if value.upper() not in rule.allowed:
        return CheckResult(rule.id, "fail", value, list(rule.allowed),
                           f"format {value} is not accepted (accepted: {shown})")
    if value.upper() in rule.review:
        return CheckResult(rule.id, "review", value, list(rule.allowed),
                           f"format {value} is accepted but not recommended")
    return CheckResult(rule.id, "pass", value, list(rule.allowed), f"format {value} is accepted")


def evaluate(policy: Policy, measurements: Mapping[str, Any],
             details: Mapping[str, str] | None = None) -> list[CheckResult]:
    """Apply every enabled rule to the image's measurements (keyed by rule id).

    A rule whose measurement is missing or None is skipped (it was not computed for this image).
    ``details`` adds context to a message (the exposure rule says "too dark" or "highlights clipped").
    """
    details = details or {}
    results = []
    for rule_id in RULES:  # stable, documented order: quality first, compliance last
        rule = policy.rules.get(rule_id)
        value = measurements.get(rule_id)
        if rule is None or value is None:
            continue
        spec = RULES[rule_id]
        if spec.kind == "set":
            results.append(_check_set(rule, str(value)))
        else:
            results.append(_check_numeric(rule, spec, float(value), details.get(rule_id, "")))
    return results


def reason_checks(checks: list[CheckResult]) -> list[CheckResult]:
    """The checks behind a verdict's reasons: the failed ones first, then those that ask for review."""
    return [c for c in checks if c.status == "fail"] + [c for c in checks if c.status == "review"]


def verdict_of(checks: list[CheckResult]) -> tuple[str, list[str]]:
    """``fail`` if any check fails, else ``review`` if any is borderline, else ``pass``; with the reasons.

    The reasons are the messages of :func:`reason_checks`, in its order (each one's status is there).
    """
    behind = reason_checks(checks)
    verdict = "fail" if any(c.status == "fail" for c in behind) else "review" if behind else "pass"
    return verdict, [c.message for c in behind]
