"""The main job: analyse each image, apply a marketplace policy, give a pass/review/fail verdict with reasons,
and write the report (JSON, CSV, HTML) and the results store."""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "ANALYSIS_VERSION": "artlens.assess.analyse",
    "AnalysisSettings": "artlens.assess.analyse",
    "AssessRun": "artlens.assess.pipeline",
    "CheckResult": "artlens.assess.policy",
    "FORMATS": "artlens.assess.report",
    "Policy": "artlens.assess.policy",
    "RULES": "artlens.assess.policy",
    "RuleSpec": "artlens.assess.policy",
    "SCHEMA_ID": "artlens.assess.pipeline",
    "TILE_SIDE": "artlens.assess.native",
    "Tile": "artlens.assess.native",
    "VERDICTS": "artlens.assess.policy",
    "assess": "artlens.assess.pipeline",
    "best_tile": "artlens.assess.native",
    "detail_tiles": "artlens.assess.native",
    "evaluate": "artlens.assess.policy",
    "format_comparison": "artlens.assess.policy",
    "fuse": "artlens.assess.native",
    "fused_quality": "artlens.assess.native",
    "judge": "artlens.assess.pipeline",
    "list_presets": "artlens.assess.policy",
    "load_policy": "artlens.assess.policy",
    "load_schema": "artlens.assess.report",
    "native_sharpness": "artlens.assess.native",
    "native_weight": "artlens.assess.native",
    "reason_checks": "artlens.assess.policy",
    "render": "artlens.assess.report",
    "run_assessment": "artlens.assess.pipeline",
    "sort_into": "artlens.assess.sorting",
    "tile_count": "artlens.assess.native",
    "validate_report": "artlens.assess.report",
    "verdict_of": "artlens.assess.policy",
    "write_csv": "artlens.assess.report",
    "write_html": "artlens.assess.report",
    "write_json": "artlens.assess.report",
})
