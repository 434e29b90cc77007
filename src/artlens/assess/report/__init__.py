"""The report of ``artlens assess``: its schema, and writers for JSON, CSV and a self-contained HTML page."""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "FORMATS": "artlens.assess.report.writers",
    "SCHEMA_ID": "artlens.assess.report.schema",
    "load_schema": "artlens.assess.report.schema",
    "render": "artlens.assess.report.formats",
    "validate_report": "artlens.assess.report.schema",
    "write_csv": "artlens.assess.report.writers",
    "write_html": "artlens.assess.report.html",
    "write_json": "artlens.assess.report.writers",
})
