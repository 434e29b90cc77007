"""Settings of one ``artlens serve`` process: where it listens, who may call it, and how much it accepts."""

from __future__ import annotations

import ipaddress
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from artlens.errors import ConfigError
from artlens.imageio import DEFAULT_MAX_PIXELS

__all__ = ["ServeSettings", "is_loopback"]

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine (``127.0.0.0/8``, ``::1``, localhost)."""
    name = host.strip().strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeSettings:
    """Everything :func:`artlens.serve.app.create_app` needs; validated by :meth:`check`.

    ``allow_roots`` are the only folders whose files ``{"paths": [...]}`` requests may name; uploads are
    written to a private folder under ``upload_dir`` (the system temp folder by default), never under them,
    and job results to ``results_dir`` (``serve-results`` next to the database), never under them either.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    allow_roots: tuple[Path, ...] = ()
    auth: bool = True
    db_path: Path | None = None  # keys (and cached assessment results); None: artlens.store.default_db_path()
    max_file_bytes: int = 25 * 1024 * 1024
    max_files: int = 16
    max_pixels: int = DEFAULT_MAX_PIXELS
    models: dict[str, Path] = field(default_factory=dict)  # classifier name -> model folder
    technical: bool = False  # assess with the hand-made quality combination only (no learned model)
    upload_dir: Path | None = None
    workers: int = 2  # requests doing heavy work at the same time (others wait)
    use_store: bool = True  # reuse assessment results of identical images from the results store
    job_workers: int = 1  # jobs (style transfer) running at the same time
    max_queued_jobs: int = 16  # jobs waiting for a worker; one more is answered 429
    results_dir: Path | None = None  # job results; None: serve-results/ next to the database
    indexes: dict[str, Path] = field(default_factory=dict)  # search index name -> index folder
    gans: dict[str, Path] = field(default_factory=dict)  # GAN name -> model folder (artlens train gan)
    rate_per_key: float = 50.0  # requests per second per API key (bursts of twice that); 0: no limit
    rate_per_address: float = 100.0  # requests per second per client address (bursts of twice that); 0: none
    auth_failures_per_minute: float = 10.0  # failed authentications per address (burst as many); 0: none
    max_parallel_uploads: int = 8  # request bodies parsed at the same time; others wait for a slot
    upload_wait_s: float = 10.0  # longest wait for a parsing slot before 429 busy
    max_request_pixels: int = 200_000_000  # pixels of all the uploads of one request together
    max_json_bytes: int = 8 * 1024 * 1024  # largest JSON body
    market_model: Path | None = None  # art market model folder for /v1/market/* ('artlens market fit')

    @property
    def database(self) -> Path:
        """The SQLite file of keys, jobs and cached results."""
        from artlens.store import default_db_path

        return Path(self.db_path) if self.db_path is not None else default_db_path()

    @property
    def max_request_bytes(self) -> int:
        """Largest request body read at all: every file at its limit plus room for form fields and headers."""
        return self.max_files * self.max_file_bytes + 1024 * 1024

    def check(self) -> ServeSettings:
        """Return the settings with canonical roots, or raise :class:`ConfigError` naming the bad one."""
        if not 0 < self.port < 65536:
            raise ConfigError(f"port {self.port}: must be between 1 and 65535")
        if not self.auth and not is_loopback(self.host):
            raise ConfigError(f"--no-auth is only allowed on a loopback host (127.0.0.1, ::1), "
                              f"not {self.host}")
        for name, value in (("max_file_bytes", self.max_file_bytes), ("max_files", self.max_files),
                            ("max_pixels", self.max_pixels), ("job_workers", self.job_workers),
                            ("max_parallel_uploads", self.max_parallel_uploads),
                            ("max_request_pixels", self.max_request_pixels),
                            ("max_json_bytes", self.max_json_bytes)):
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, not {value}")
        for name, rate in (("rate_per_key", self.rate_per_key), ("rate_per_address", self.rate_per_address),
                           ("auth_failures_per_minute", self.auth_failures_per_minute),
                           ("upload_wait_s", self.upload_wait_s)):
            if not rate >= 0:  # NaN too
                raise ConfigError(f"{name} must be 0 or more, not {rate}")
        if self.max_queued_jobs < 0:
            raise ConfigError(f"max_queued_jobs must be at least 0, not {self.max_queued_jobs}")
        roots = []
        for root in self.allow_roots:
            resolved = Path(root).expanduser().resolve()
            if not resolved.is_dir():
                raise ConfigError(f"--allow-root {root}: not a folder")
            roots.append(resolved)
        upload = Path(self.upload_dir or tempfile.gettempdir()).expanduser().resolve()
        results = Path(self.results_dir or self.database.parent / "serve-results").expanduser().resolve()
        for root in roots:
            for what, folder in (("upload", upload), ("results", results)):
                if folder.is_relative_to(root):
                    raise ConfigError(f"the {what} folder {folder} lies under --allow-root {root}; "
                                      "choose another")
        for name, folder in self.models.items():
            if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
                raise ConfigError(f"--model {name}={folder}: names may use letters, digits, '-', '_' and '.'")
            if not Path(folder).is_dir():
                raise ConfigError(f"--model {name}={folder}: not a model folder")
        for name, folder in self.indexes.items():
            if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
                raise ConfigError(f"--index {name}={folder}: names may use letters, digits, '-', '_' and '.'")
            if not Path(folder).is_dir():
                raise ConfigError(f"--index {name}={folder}: not an index folder")
        if self.market_model is not None and not (Path(self.market_model) / "model.json").is_file():
            raise ConfigError(f"--market-model {self.market_model}: not a market model folder "
                              "(no model.json)")
        for name, folder in self.gans.items():
            if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
                raise ConfigError(f"--gan {name}={folder}: names may use letters, digits, '-', '_' and '.'")
            if not (Path(folder) / "config.json").is_file():
                raise ConfigError(f"--gan {name}={folder}: not a GAN model folder")
        return replace(self, allow_roots=tuple(roots), upload_dir=upload, results_dir=results)
