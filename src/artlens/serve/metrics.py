"""Prometheus text-format metrics, kept by hand (no client library): counters and latency histograms.

Exposition format 0.0.4: ``# HELP`` and ``# TYPE`` lines, then one sample per label set; histograms as
cumulative ``_bucket{le=...}`` samples plus ``_sum`` and ``_count``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

__all__ = ["CONTENT_TYPE", "HTTP_METHODS", "Counter", "Gauge", "Histogram", "Registry", "method_label"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: The only values of the ``method`` label: any other method string a client sends counts as ``other``, so
#: clients cannot add series (and memory) without bound.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    """``method`` when it is a standard HTTP method, else ``other``."""
    return method if method in HTTP_METHODS else "other"

#: Seconds: from a health check (ms) to a batch of learned-model assessments (tens of seconds).
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: str = "") -> str:
    parts = [f'{k}="{_escape(v)}"' for k, v in labels]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    """A monotonically increasing count per label set."""

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = ()) -> None:
        self.name, self.help, self.label_names = name, help_text, tuple(label_names)
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple((n, str(labels[n])) for n in self.label_names)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(tuple((n, str(labels[n])) for n in self.label_names), 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self._lock:
            items = sorted(self._values.items())
        lines += [f"{self.name}{_labels(k)} {_number(v)}" for k, v in items]
        return lines


class Gauge:
    """A value read when the metrics are rendered (``read()``; 0 until one is bound)."""

    def __init__(self, name: str, help_text: str, read: Callable[[], float] | None = None) -> None:
        self.name, self.help, self.read = name, help_text, read

    def render(self) -> list[str]:
        value = self.read() if self.read is not None else 0.0
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge",
                f"{self.name} {_number(value)}"]


class Histogram:
    """Observations counted into cumulative buckets per label set."""

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = (),
                 buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        self.name, self.help, self.label_names = name, help_text, tuple(label_names)
        self.buckets = tuple(sorted(buckets))
        self._series: dict[Labels, list[float]] = {}  # per-bucket counts (not cumulative), +Inf, sum
        self._lock = threading.Lock()

    def observe(self, value: float, **labels: str) -> None:
        key = tuple((n, str(labels[n])) for n in self.label_names)
        with self._lock:
            series = self._series.setdefault(key, [0.0] * (len(self.buckets) + 2))
            index = next((i for i, b in enumerate(self.buckets) if value <= b), len(self.buckets))
            series[index] += 1
            series[-1] += value

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self._lock:
            items = sorted((k, list(v)) for k, v in self._series.items())
        for key, series in items:
            running = 0.0
            for bound, count in zip((*self.buckets, float("inf")), series[:-1], strict=True):
                running += count
                le = 'le="' + _number(bound) + '"'
                lines.append(f"{self.name}_bucket{_labels(key, le)} {_number(running)}")
            lines.append(f"{self.name}_sum{_labels(key)} {_number(series[-1])}")
            lines.append(f"{self.name}_count{_labels(key)} {_number(running)}")
        return lines


class Registry:
    """The metrics of one app: requests by route and status, latencies, errors, images processed, jobs."""

    def __init__(self) -> None:
        self.requests = Counter("artlens_http_requests_total", "HTTP requests answered.",
                                ("method", "route", "status"))
        self.latency = Histogram("artlens_http_request_duration_seconds",
                                 "Time from request to the end of the response.", ("route",))
        self.errors = Counter("artlens_http_errors_total", "Requests answered with an error, by error code.",
                              ("code",))
        self.images = Counter("artlens_images_total", "Images processed, by operation and outcome.",
                              ("operation", "outcome"))
        self.jobs_queued = Gauge("artlens_jobs_queued", "Jobs waiting for a worker.")
        self.jobs_running = Gauge("artlens_jobs_running", "Jobs running now.")
        self.jobs = Counter("artlens_jobs_total", "Jobs ended, by kind and status.", ("kind", "status"))

    def render(self) -> str:
        lines: list[str] = []
        for metric in (self.requests, self.latency, self.errors, self.images, self.jobs_queued,
                       self.jobs_running, self.jobs):
            lines += metric.render()
        return "\n".join(lines) + "\n"
