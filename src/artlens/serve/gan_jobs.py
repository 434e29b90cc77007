"""Generation as a job: the checked request and the work (:func:`artlens.gan.generate` on a GAN the
service registered with ``artlens serve --gan NAME=MODEL``).

A done job's first result, at ``/v1/results/{id}``, is an ``artlens.generated/1`` summary as JSON whose
``files.grid`` links the grid PNG (:mod:`artlens.serve.routes.generate`). A generation job is not retriable
after a restart: it takes a second, so submit it again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from artlens.serve.jobs import JobQueue, Work, write_json

__all__ = ["GanInfo", "GansList", "GenerateRequest", "describe_gans", "gan_work"]


class GanInfo(BaseModel):
    """One registered GAN."""

    model_config = ConfigDict(extra="forbid")
    arch: str = Field(description="fastgan or dcgan.")
    size: int = Field(description="Image side in pixels.")
    kimg: float | None = Field(description="Thousands of real images shown in training.")
    source: str | None = Field(description="The training folder's name.")


class GansList(BaseModel):
    """Answer of ``GET /v1/gans``."""

    model_config = ConfigDict(extra="forbid")
    gans: dict[str, GanInfo] = Field(description="Registered GANs by name.")


class GenerateRequest(BaseModel):
    """JSON body of ``/v1/generate``."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1, max_length=64, description="A GAN registered with --gan NAME=MODEL.")
    n: int = Field(default=16, ge=1, le=64, description="Images in the grid.")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    truncation: float | None = Field(default=None, gt=0.0, le=4.0, description="Cut the latent at ±T.")


@functools.lru_cache(maxsize=8)
def _load(folder: str) -> Any:
    from artlens.gan import GanModel

    return GanModel.load(folder)


def describe_gans(gans: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """What each registered GAN is: architecture, image size, images seen in training."""
    out = {}
    for name, folder in sorted(gans.items()):
        config = _load(str(folder)).config
        out[name] = {"arch": config.arch, "size": config.size, "kimg": config.training.get("kimg"),
                     "source": config.training.get("source")}
    return out


def gan_work(params: dict[str, Any], folder: Path, jobs: JobQueue) -> Work:
    """The work of a ``generate`` job: the summary JSON first, then the grid PNG."""
    def work(job_id: str, report: Callable[[float], None]) -> list[Path]:
        from artlens.gan import generate, grid

        report(0.05)
        model = _load(str(folder))
        images = generate(model, params["n"], seed=params["seed"], truncation=params["truncation"])
        report(0.8)
        path = jobs.results_dir / f"{job_id}.png"
        grid(images).save(path)
        summary = {"schema": "artlens.generated/1", "model": params["model"], "n": len(images),
                   "size": model.config.size, "seed": params["seed"], "truncation": params["truncation"],
                   "files": {"grid": f"/v1/generate/{job_id}/grid"}}
        return [write_json(summary, jobs.results_dir, f"{job_id}.json"), path]

    return work
