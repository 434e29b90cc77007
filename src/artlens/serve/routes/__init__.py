"""The service's routes: one module-level ``APIRouter`` per capability, assembled by
:func:`artlens.serve.app.create_app`."""

from __future__ import annotations

from artlens.serve.routes import (
    align,
    assess,
    classify,
    explain,
    generate,
    jobs,
    market,
    meta,
    music,
    search,
    style,
    text,
)

__all__ = ["ROUTERS"]

#: Every router, in the order the app includes them.
ROUTERS = (meta.router, assess.router, classify.router, style.router, jobs.router, explain.router,
           search.router, music.router, market.router, align.router, text.router, generate.router)
