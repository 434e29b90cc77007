"""The work behind the routes: screening a request's images and rendering a style transfer.

Plain functions of the request's :class:`~artlens.serve.inputs.Inputs` and the server's settings, run off the
event loop (in the limiter's threads or the job pool), shared by the synchronous routes, the jobs and their
retries.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from artlens.errors import ArtlensError
from artlens.serve.errors import ApiError
from artlens.serve.inputs import Inputs, merge_errors
from artlens.serve.jobs import JobQueue, write_png
from artlens.serve.settings import ServeSettings
from artlens.serve.state import LoadedModel

__all__ = ["assess_inputs", "check_explain", "classify_inputs", "policy_named", "stylize_work"]


def policy_named(name: Any) -> Any:
    """The preset policy ``name`` (default ``general``); 422 for anything else, file paths included."""
    from artlens.assess.policy import list_presets, load_policy

    name = str(name or "general").strip()
    presets = list_presets()
    if name not in presets:  # never a file path: a client must not make the server read its files
        raise ApiError(422, "bad_policy", f"unknown policy {name!r}; presets: {', '.join(presets)}")
    return load_policy(name)


def check_explain(settings: ServeSettings) -> None:
    """409 when heat maps are asked of a server without the learned quality model."""
    if settings.technical:
        raise ApiError(409, "no_learned_model", "this server runs with --technical (no learned quality "
                       "model), so it has no heat map to draw; restart it without --technical")


def assess_inputs(inputs: Inputs, settings: ServeSettings,
                  progress: Callable[[int, int], None] | None = None,
                  explain_dir: Path | None = None) -> dict[str, Any]:
    """The ``artlens.assess/1`` report of a request's images with the preset its ``policy`` field names; with
    ``explain_dir``, each image's heat map is drawn in the worker and written there."""
    from artlens.assess.analyse import AnalysisSettings
    from artlens.assess.pipeline import AssessRun, run_assessment

    unknown = set(inputs.fields) - {"policy"}
    if unknown:
        raise ApiError(422, "invalid_input", f"unknown field(s) for assess: {', '.join(sorted(unknown))}")
    policy = policy_named(inputs.fields.get("policy"))
    if explain_dir is not None:
        check_explain(settings)
    analysis = AnalysisSettings.for_policy(policy, max_pixels=settings.max_pixels,
                                           learned=not settings.technical, explain=explain_dir is not None)
    run = AssessRun(policy=policy, settings=analysis, workers=1, db=settings.db_path,
                    use_store=settings.use_store, explain_dir=explain_dir)
    return merge_errors(run_assessment(inputs.paths, run, progress), inputs.errors)


def classify_inputs(inputs: Inputs, models: dict[str, LoadedModel], settings: ServeSettings
                    ) -> dict[str, Any]:
    """The ``artlens.classify/1`` report of a request's images with the model its fields name."""
    from artlens.classify.predict import classify_paths

    unknown = set(inputs.fields) - {"model", "top_k"}
    if unknown:
        raise ApiError(422, "invalid_input", f"unknown field(s) for classify: {', '.join(sorted(unknown))}")
    if not models:
        raise ApiError(404, "no_models", "no classifier is registered with this server (start it with "
                       "--model NAME=DIR)")
    name = inputs.fields.get("model")
    if name is None and len(models) == 1:
        name = next(iter(models))
    if name is None:
        raise ApiError(422, "unknown_model", "several models are registered: choose one with 'model'")
    if name not in models:
        raise ApiError(422, "unknown_model",
                       f"unknown model {name!r}; registered: {', '.join(sorted(models))}")
    try:
        top_k = int(inputs.fields.get("top_k", 3))
    except (TypeError, ValueError):
        raise ApiError(422, "invalid_input", "top_k must be an integer") from None
    if not 1 <= top_k <= 50:
        raise ApiError(422, "invalid_input", "top_k must be between 1 and 50")
    model = models[name]
    with model.lock:  # one forward pass at a time per model
        report = classify_paths(model.classifier, inputs.paths, top_k=top_k, max_pixels=settings.max_pixels)
    report["model"]["path"] = None  # the server's folders are not the client's business
    report["errors"] = inputs.errors + report["errors"]
    return report


def stylize_work(paths: dict[str, Path], params: dict[str, Any], settings: ServeSettings, jobs: JobQueue,
                  labels: dict[str, str]) -> Callable[[str, Callable[[float], None]], list[Path]]:
    def work(job_id: str, report: Callable[[float], None]) -> list[Path]:
        from artlens import style as style_module
        from artlens.style.gatys import GatysSettings

        report(0.05)
        done = [0.05]
        stages = len(GatysSettings().scales)

        def progress(stage: int, step: int, total: int, _losses: Any) -> None:
            fraction = 0.05 + 0.9 * min(1.0, (stage - 1 + step / max(1, total)) / stages)
            if fraction >= done[0] + 0.01:  # monotonic, and not a database write per step
                done[0] = fraction
                report(fraction)

        source = f"preset:{params['preset']}" if "preset" in params else paths["style"]
        try:
            image = style_module.stylize(
                paths["content"], source, params["method"], size=params["size"], strength=params["strength"],
                preserve_color=params["preserve_color"], max_pixels=settings.max_pixels,
                progress=progress if params["method"] == "gatys" else None)
        except ArtlensError as exc:  # name the client's files, never the server's private copies
            message = str(exc)
            for private, shown in labels.items():
                message = message.replace(private, shown)
            raise ArtlensError(message) from None
        return [write_png(image, jobs.results_dir, f"{job_id}.png")]

    return work
