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
    written to a private folder under ``upload_dir`` (the system temp folder by default), never under them.
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
                            ("max_pixels", self.max_pixels)):
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, not {value}")
        roots = []
        for root in self.allow_roots:
            resolved = Path(root).expanduser().resolve()
            if not resolved.is_dir():
                raise ConfigError(f"--allow-root {root}: not a folder")
            roots.append(resolved)
        upload = Path(self.upload_dir or tempfile.gettempdir()).expanduser().resolve()
        for root in roots:
            if upload.is_relative_to(root):
                raise ConfigError(f"the upload folder {upload} lies under --allow-root {root}; "
                                  "choose another")
        for name, folder in self.models.items():
            if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
                raise ConfigError(f"--model {name}={folder}: names may use letters, digits, '-', '_' and '.'")
            if not Path(folder).is_dir():
                raise ConfigError(f"--model {name}={folder}: not a model folder")
        return replace(self, allow_roots=tuple(roots), upload_dir=upload)
