"""The service's routes: one module-level ``APIRouter`` per capability, assembled by
:func:`artlens.serve.app.create_app`."""

from __future__ import annotations

from artlens.serve.routes import assess, classify, explain, generate, jobs, meta, music, search, style

__all__ = ["ROUTERS"]

#: Every router, in the order the app includes them.
ROUTERS = (meta.router, assess.router, classify.router, style.router, jobs.router, explain.router,
           search.router, music.router, generate.router)
