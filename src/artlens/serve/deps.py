"""The routes' dependencies: the service's shared state and the API-key check, as ``Annotated`` types.

Each reads what :func:`artlens.serve.state.build_state` put on ``app.state`` (the FastAPI full-stack
template's ``api/deps.py``): a route asks for ``settings: SettingsDep`` or ``jobs: JobsDep`` instead of
closing over them, and routers carry ``dependencies=GUARDED`` for the key check.
"""

from __future__ import annotations

import re
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from artlens.serve.auth import ApiKey, KeyStore
from artlens.serve.errors import ApiError
from artlens.serve.indexes import RegisteredIndex
from artlens.serve.jobs import Job, JobQueue
from artlens.serve.metrics import Registry
from artlens.serve.ratelimit import RateLimited, TokenBuckets, client_address
from artlens.serve.settings import ServeSettings
from artlens.serve.state import LoadedModel

__all__ = ["GUARDED", "ApiKeyDep", "IndexesDep", "JobsDep", "LimiterDep", "MetricsDep", "ModelsDep",
           "OwnedJob", "SettingsDep", "get_settings", "owner_of", "require_key"]

_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_BEARER = HTTPBearer(auto_error=False, description="An API key from `artlens keys create`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]


def get_settings(request: Request) -> ServeSettings:
    return request.app.state.settings


def get_jobs(request: Request) -> JobQueue:
    return request.app.state.jobs


def get_metrics(request: Request) -> Registry:
    return request.app.state.metrics


def get_limiter(request: Request) -> anyio.CapacityLimiter:
    return request.app.state.limiter


def get_models(request: Request) -> dict[str, LoadedModel]:
    return request.app.state.models


def get_indexes(request: Request) -> dict[str, RegisteredIndex]:
    return request.app.state.indexes


SettingsDep = Annotated[ServeSettings, Depends(get_settings)]
JobsDep = Annotated[JobQueue, Depends(get_jobs)]
MetricsDep = Annotated[Registry, Depends(get_metrics)]
LimiterDep = Annotated[anyio.CapacityLimiter, Depends(get_limiter)]
ModelsDep = Annotated[dict[str, LoadedModel], Depends(get_models)]
IndexesDep = Annotated[dict[str, RegisteredIndex], Depends(get_indexes)]


def _refuse(request: Request, message: str) -> ApiError:
    """401, or 429 once this address has used up its failed attempts (a valid key still passes)."""
    failures: TokenBuckets = request.app.state.auth_failures
    wait = failures.take(client_address(request.scope))
    if wait:
        return RateLimited("with failed authentication from this address", wait)
    return ApiError(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})


def require_key(request: Request, settings: SettingsDep, credentials: Credentials) -> ApiKey | None:
    """The request's API key (None with auth off): 401 without a valid one, 429 over the key's rate."""
    if not settings.auth:
        return None
    if credentials is None:
        raise _refuse(request, "an API key is required: send 'Authorization: Bearer <key>'")
    keys: KeyStore | None = request.app.state.keys
    key = keys.verify(credentials.credentials) if keys is not None else None
    if key is None:
        raise _refuse(request, "invalid or revoked API key")
    wait = request.app.state.per_key.take(key.id)
    if wait:
        raise RateLimited("with this API key", wait)
    request.state.key_id = key.id  # the id only: tokens are never kept or logged
    return key


ApiKeyDep = Annotated[ApiKey | None, Depends(require_key)]
#: The key check, for ``APIRouter(dependencies=GUARDED)``.
GUARDED = [Depends(require_key)]


def owner_of(request: Request) -> str | None:
    """The id of the request's API key (None with auth off): the owner of the jobs it creates."""
    return getattr(request.state, "key_id", None)


def owned_job(request: Request, job_id: str, jobs: JobsDep) -> Job:
    """The job ``job_id`` if the request's key created it; else 404 (others' jobs are not found)."""
    job = jobs.store.get(job_id) if _JOB_ID.match(job_id) else None
    if job is None or job.owner != owner_of(request):
        raise ApiError(404, "not_found", f"no job {job_id!r}")
    return job


OwnedJob = Annotated[Job, Depends(owned_job)]
