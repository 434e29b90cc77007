"""Which copy of a duplicate group to keep, and why: what artlens knows about each copy decides.

The rule, in order:

1. the compliance verdict under a policy (pass > review > fail > could not be assessed);
2. the quality score (0-100), where copies within :data:`QUALITY_MARGIN` points count as equal (a re-encode
   or a resize moves the learned score by a few points without a visible difference);
3. the resolution (width x height);
4. the file size in bytes;
5. the copy indexed first.

The verdicts and scores come from :mod:`artlens.assess` (the same pipeline as ``artlens assess``): with the
results store on, a copy already assessed under the same analysis settings is read back by its content hash,
and only the others are measured. Only the members of duplicate groups are assessed, never the whole index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from artlens.search.index import IndexedItem

__all__ = ["QUALITY_MARGIN", "Assessment", "KeepRule", "assess_members", "choose_keeper"]

#: Quality scores closer than this (points of 0-100) do not decide between copies.
QUALITY_MARGIN = 5.0
_RANK = {"pass": 3, "review": 2, "fail": 1}  # could not be assessed: 0
_VERDICT_WORDS = {"pass": "passes", "review": "needs review under", "fail": "fails"}
_OTHER_WORDS = {"pass": "passes", "review": "needs review", "fail": "fails"}


@dataclass(frozen=True)
class KeepRule:
    """How duplicates are judged: the policy (None: resolution and bytes only) and how to assess.

    ``db``/``use_store`` choose the results store as :class:`artlens.assess.pipeline.AssessRun` does;
    ``technical`` scores quality with the hand-made combination instead of the learned model (faster).
    """

    policy: str | None = "general"
    db: str | Path | None = None
    use_store: bool = False
    workers: int = 0
    technical: bool = False


@dataclass(frozen=True)
class Assessment:
    """What the assess pipeline said about one copy (``error`` set when it could not be assessed)."""

    verdict: str | None = None
    quality: float | None = None
    reasons: tuple[str, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict:
        if self.error is not None:
            return {"error": self.error}
        return {"verdict": self.verdict, "quality": self.quality, "reasons": list(self.reasons)}


def assess_members(paths: Sequence[str], rule: KeepRule) -> tuple[dict[str, Assessment], dict[str, int]]:
    """Assess ``paths`` under ``rule.policy`` with the assess pipeline.

    Returns path -> :class:`Assessment`, and how many were ``computed`` and read back from the store
    (``cached``); both empty without a policy.
    """
    from artlens.assess.analyse import AnalysisSettings
    from artlens.assess.pipeline import AssessRun, run_assessment
    from artlens.assess.policy import load_policy

    if rule.policy is None or not paths:
        return {}, {}
    policy = load_policy(rule.policy)
    run = AssessRun(policy=policy, settings=AnalysisSettings.for_policy(policy, learned=not rule.technical),
                    workers=rule.workers, db=Path(rule.db) if rule.db is not None else None,
                    use_store=rule.use_store or rule.db is not None)
    report = run_assessment(list(paths), run)
    found = {im["path"]: Assessment(im["verdict"], im["scores"].get("quality"), tuple(im["reasons"]))
             for im in report["images"]}
    found.update({e["path"]: Assessment(error=e["error"]) for e in report["errors"]})
    return found, {"computed": report["summary"]["computed"], "cached": report["summary"]["cached"]}


def _name(item: IndexedItem) -> str:
    return Path(item.path).name


def _kb(n: int) -> str:
    return f"{n / 1000:.0f} KB" if n >= 1000 else f"{n} B"


def choose_keeper(members: Sequence[IndexedItem], assessed: Mapping[str, Assessment],
                  policy: str | None) -> tuple[IndexedItem, str]:
    """The member to keep by the module's rule, and a short sentence saying what decided.

    ``assessed`` maps paths to their :class:`Assessment` (empty: resolution and bytes decide).
    """
    none = Assessment()

    def rank(it: IndexedItem) -> int:
        return _RANK.get(assessed.get(it.path, none).verdict or "", 0)

    def quality(it: IndexedItem) -> float:
        q = assessed.get(it.path, none).quality
        return float(q) if q is not None else float("-inf")

    def size(it: IndexedItem) -> tuple[int, int, int]:
        return (it.width * it.height, it.size, -it.id)

    best = max(rank(it) for it in members)
    pool = [it for it in members if rank(it) == best]
    top = max(quality(it) for it in pool)
    close = [it for it in pool if quality(it) >= top - QUALITY_MARGIN]
    keep = max(close, key=size)
    return keep, _reason(keep, members, pool, close, assessed, policy)


def _reason(keep: IndexedItem, members: Sequence[IndexedItem], pool: Sequence[IndexedItem],
            close: Sequence[IndexedItem], assessed: Mapping[str, Assessment], policy: str | None) -> str:
    """What decided between the members (``pool``: the best verdict's; ``close``: its best quality's)."""
    none = Assessment()

    def quality(it: IndexedItem) -> float:
        q = assessed.get(it.path, none).quality
        return float(q) if q is not None else float("-inf")

    mine = assessed.get(keep.path, none)
    if not assessed:
        prefix = "kept: "
    elif mine.verdict is None:
        prefix = "kept: no copy could be assessed; "
    elif len(pool) < len(members):  # the verdict decided
        worse = [it for it in members if it not in pool]
        parts = [_their_verdict(it, assessed.get(it.path, none)) for it in worse[:3]]
        more = f" (+{len(worse) - 3} more)" if len(worse) > 3 else ""
        return f"kept: {_VERDICT_WORDS[mine.verdict]} the {policy} policy; " + "; ".join(parts) + more
    elif len(close) == 1:  # the quality decided
        runner = max((it for it in pool if it is not keep), key=quality)
        return (f"kept: same verdict ({mine.verdict}), higher quality: {quality(keep):.0f}/100 against "
                f"{quality(runner):.0f} ({_name(runner)})")
    else:
        prefix = f"kept: same verdict ({mine.verdict}) and quality within {QUALITY_MARGIN:.0f} points; "
    runner = max((it for it in close if it is not keep), key=lambda it: (it.width * it.height, it.size,
                                                                         -it.id))
    if keep.width * keep.height > runner.width * runner.height:
        return (f"{prefix}more pixels: {keep.width}\u00d7{keep.height} against {runner.width}\u00d7"
                f"{runner.height} ({_name(runner)})")
    if keep.size > runner.size:
        return f"{prefix}larger file: {_kb(keep.size)} against {_kb(runner.size)} ({_name(runner)})"
    return f"{prefix}the copies are alike on every count; the first indexed is kept"


def _their_verdict(item: IndexedItem, theirs: Assessment) -> str:
    if theirs.verdict is None:
        return f"{_name(item)} could not be assessed ({theirs.error or 'not assessed'})"
    said = " and ".join(theirs.reasons[:2]) or "no reason given"
    return f"{_name(item)} {_OTHER_WORDS[theirs.verdict]}: {said}"
