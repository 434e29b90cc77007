"""The artlens command line: parses arguments, calls the library, prints. Nothing else lives here.

Results go to stdout (tables, or JSON with ``--json``); progress bars and messages go to stderr. Every
:class:`~artlens.errors.ArtlensError` becomes one line on stderr and a non-zero exit code. Each module of this
package registers the commands of one part of the library on the shared :data:`app`.
"""

from __future__ import annotations

import sys
from importlib import import_module

from artlens.cli._app import app
from artlens.cli.exitcodes import ExitCode
from artlens.cli.output import err
from artlens.errors import ArtlensError
from artlens.procpool import Interrupted

__all__ = ["COMMAND_MODULES", "main"]

#: Command modules in the order their commands appear in ``artlens --help``.
COMMAND_MODULES = ("quality", "classify", "evaluate", "align", "style", "search", "music", "text", "generate",
                   "market", "serve", "system")
for _name in COMMAND_MODULES:
    import_module(f"artlens.cli.{_name}")


def main() -> None:
    """Entry point of the ``artlens`` console script."""
    try:
        app()
    except Interrupted as exc:
        err.print(f"artlens: {exc}", highlight=False, markup=False)
        sys.exit(128 + exc.signum)
    except ArtlensError as exc:
        message = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        err.print(f"artlens: error: {message}", highlight=False, markup=False)
        sys.exit(ExitCode.USAGE)
    except KeyboardInterrupt:
        err.print("artlens: interrupted")
        sys.exit(ExitCode.INTERRUPTED)
