"""``artlens assess`` as a library call: files in, a versioned report out.

Data flows one way: paths -> :mod:`artlens.imageio` -> :func:`~artlens.assess.analyse.analyse` (in worker
processes) -> the results store -> the policy's checks and verdicts -> the report dict that
:mod:`artlens.assess.report` writes as JSON, CSV or HTML.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artlens import __version__
from artlens.assess.analyse import AnalysisSettings
from artlens.assess.policy import (
    VERDICTS,
    CheckResult,
    Policy,
    evaluate,
    load_policy,
    reason_checks,
    verdict_of,
)
from artlens.assess.report.schema import SCHEMA_ID
from artlens.engine.assess_job import AssessJob
from artlens.engine.engines import make_engine
from artlens.engine.options import EngineOptions
from artlens.errors import ArtlensError, ConfigError, printable
from artlens.files import sha256_file
from artlens.imageio import collect_inputs
from artlens.store import DamagedDatabaseError, Store

__all__ = ["SCHEMA_ID", "AssessRun", "assess", "judge", "run_assessment"]

if TYPE_CHECKING:
    from artlens.iqa.explain import Explanation

ProgressFn = Callable[[int, int], None]
log = logging.getLogger("artlens.assess")


@dataclass(frozen=True)
class AssessRun:
    """Options of one assessment run."""

    policy: Policy
    settings: AnalysisSettings
    workers: int = 0  # 0: one per core
    db: Path | None = None  # None: the default store; see use_store
    use_store: bool = True
    #: with ``settings.explain``: the folder the heat maps are written to, each as its result arrives
    explain_dir: Path | None = None
    engine: EngineOptions = field(default_factory=EngineOptions)  # local worker processes, or a Ray cluster


#: Checks that carry the text boxes they measured, and which boxes: those on the product or the others.
_TEXT_CHECKS = {"text_overlay": False, "text_on_product": True}


def _check_entry(check: CheckResult, measurements: dict[str, Any]) -> dict[str, Any]:
    """A check as the report gives it; a text check with its boxes (input pixels, the text read there)."""
    entry = check.as_dict()
    if check.id in _TEXT_CHECKS and "text_boxes" in measurements:
        entry["boxes"] = [{"box": b["box"], "text": b["text"], "score": b["score"]}
                          for b in measurements["text_boxes"] if b["on_product"] == _TEXT_CHECKS[check.id]]
    return entry


def judge(record: dict[str, Any], policy: Policy, path: str) -> dict[str, Any]:
    """Apply ``policy`` to stored measurements: the report's image entry with checks, verdict and reasons.

    ``reasons`` are the messages of the failed checks, then of those asking for review; ``reason_checks``
    gives each of them with its rule id and status, in the same order. ``product_box`` is copied when the
    record has one (segmentation ran).
    """
    measurements = record["measurements"]
    checks = evaluate(policy, measurements, record.get("details"))
    verdict, reasons = verdict_of(checks)
    entry = {
        "path": path,
        "width": record["width"],
        "height": record["height"],
        "format": record["format"],
        "file_size": record["file_size"],
        "sha256": record["sha256"],
        "scores": record["scores"],
        "subscores": record["subscores"],
        "checks": [_check_entry(c, measurements) for c in checks],
        "verdict": verdict,
        "reasons": reasons,
        "reason_checks": [{"id": c.id, "status": c.status, "message": c.message}
                          for c in reason_checks(checks)],
    }
    if record.get("product_box") is not None:  # records stored before it was kept have none
        entry["product_box"] = list(record["product_box"])
    return entry


# -- main side ---------------------------------------------------------------------------------------------

def _judgeable(record: dict[str, Any], policy: Policy) -> bool:
    """A stored record the policy can judge; one with missing or mistyped fields is a cache miss."""
    try:
        judge(record, policy, "")
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return False
    return True

class _Explanations:
    """The heat maps of one run: written to ``run.explain_dir`` as they arrive, one file name per image."""

    def __init__(self, run: AssessRun) -> None:
        if run.settings.explain and not run.settings.learned:
            raise ConfigError("explanations need the learned quality model: drop explain or the technical "
                              "scoring")
        if run.settings.explain and run.explain_dir is None:
            raise ConfigError("explain needs a folder to write the heat maps to (AssessRun.explain_dir)")
        self.folder = run.explain_dir if run.settings.explain else None
        self.records: dict[str, dict[str, Any]] = {}
        self._used: set[str] = set()
        if self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"{self.folder}: cannot make the explanations folder: "
                                  f"{exc.strerror or exc}") from None

    def write(self, path: str, sha256: str, explanation: Explanation) -> None:
        if self.folder is None:
            return
        stem = Path(path).stem
        name = stem if stem not in self._used else f"{stem}-{sha256[:8]}"
        self._used.add(name)
        try:
            target = explanation.save(self.folder / f"{name}{explanation.suffix}")
        except ArtlensError as exc:  # the assessment stands; only its picture is missing
            log.warning("%s", exc)
            return
        self.records[path] = explanation.record(target)

    def add(self, image: dict[str, Any]) -> dict[str, Any]:
        """The report's image entry, with its ``explanation`` when one was written."""
        if image["path"] in self.records:
            image["explanation"] = self.records[image["path"]]
        return image


def run_assessment(inputs: Iterable[str | os.PathLike[str]], run: AssessRun,
                   progress: ProgressFn | None = None) -> dict[str, Any]:
    """Assess every image under ``inputs`` and return the ``artlens.assess/1`` report dict.

    Files that cannot be read are listed under ``errors`` with a one-line reason; the batch goes on.
    With the store enabled, images already measured under the same settings are not computed again, and each
    new result is committed as soon as it exists, so a killed run resumes where it stopped. With
    ``run.settings.explain``, every image is analysed (the heat map needs its pixels) and its heat map is
    written to ``run.explain_dir`` as soon as its worker returns it; the image entry's ``explanation`` names
    the file.
    """
    started = time.perf_counter()
    explanations = _Explanations(run)
    engine = make_engine(run.engine, run.workers)
    files, missing = collect_inputs(inputs)
    errors: list[dict[str, str]] = [{"path": e.path, "error": str(e)} for e in missing]
    key = run.settings.key()
    store = Store(run.db) if run.use_store else None
    total = len(files)
    records: dict[str, dict[str, Any]] = {}
    cached = computed = 0
    done = 0

    def tick() -> None:
        if progress is not None:
            progress(done, total)

    try:
        hashes: dict[str, str] = {}
        to_compute: list[str] = []
        if store is not None and not run.settings.explain:
            for path in files:
                try:
                    hashes[str(path)] = sha256_file(path)
                except OSError as exc:
                    hashes[str(path)] = ""
                    reason = exc.strerror or type(exc).__name__
                    shown = printable(path)
                    errors.append({"path": str(path), "error": f"{shown}: cannot read file: {reason}"})
            found = store.get_results(key, (h for h in hashes.values() if h))
            stored = {sha: record for sha, record in found.items() if _judgeable(record, run.policy)}
            for path in files:
                sha = hashes[str(path)]
                if not sha:
                    done += 1
                elif sha in stored:
                    records[str(path)] = stored[sha]
                    cached += 1
                    done += 1
                else:
                    to_compute.append(str(path))
            tick()
        else:
            to_compute = [str(p) for p in files]

        store_failed: list[DamagedDatabaseError] = []

        def on_result(path: str, record: dict[str, Any] | None, error: str | None,
                      explanation: Explanation | None) -> None:
            nonlocal done, computed
            done += 1
            if record is not None and explanation is not None:
                explanations.write(path, record["sha256"], explanation)
            if record is None:
                errors.append({"path": path, "error": error or f"{path}: failed"})
            else:
                computed += 1
                records[path] = record
                if store is not None and not store_failed:
                    try:
                        store.put_result(key, record["sha256"], record)
                    except DamagedDatabaseError as exc:  # the batch goes on; its results are in the report
                        store_failed.append(exc)
                        log.warning("%s; the rest of this run is not stored", exc)
            tick()

        for path, value, error in engine.map(AssessJob(run.settings), to_compute):
            record, explanation = value if value is not None else (None, None)
            on_result(path, record, error, explanation)
    finally:
        if store is not None:
            store.close()

    images = [explanations.add(judge(records[str(p)], run.policy, str(p)))
              for p in files if str(p) in records]
    elapsed = time.perf_counter() - started
    counts = {v: sum(1 for im in images if im["verdict"] == v) for v in VERDICTS}
    order = {str(p): i for i, p in enumerate(files)}
    errors.sort(key=lambda e: order.get(e["path"], -1))
    return {
        "schema": SCHEMA_ID,
        "artlens_version": __version__,
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "policy": {"name": run.policy.name, "sha256": run.policy.sha256()},
        "settings": {
            "analysis_key": key,
            "iqa_size": run.settings.iqa_size,
            "text_size": run.settings.text_size,
            "max_pixels": run.settings.max_pixels,
            "workers": engine.parallelism(),
        },
        "images": images,
        "errors": errors,
        "summary": {
            "total": total + len(missing),
            "assessed": len(images),
            "errors": len(errors),
            **counts,
            "computed": computed,
            "cached": cached,
            "elapsed_s": round(elapsed, 3),
            "images_per_s": round(computed / elapsed, 2) if elapsed > 0 and computed else 0.0,
        },
    }


def assess(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], policy: str | Policy = "general",
           *, workers: int = 0, db: str | Path | None = None, use_store: bool = False,
           **settings: Any) -> dict[str, Any]:
    """Convenience API: ``artlens.assess.pipeline.assess("photos/", policy="amazon")`` returns the report
    dict.

    Unlike the CLI, the Python API uses the results store only with ``use_store=True`` or a ``db``.
    """
    pol = policy if isinstance(policy, Policy) else load_policy(policy)
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    run = AssessRun(policy=pol, settings=AnalysisSettings.for_policy(pol, **settings), workers=workers,
                    db=Path(db) if db is not None else None, use_store=use_store or db is not None)
    return run_assessment(paths, run)
