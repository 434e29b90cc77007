"""The exit statuses of every ``artlens`` command, documented in one table (``artlens --help``, README)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["EXIT_CODES", "ExitCode"]


class ExitCode(IntEnum):
    OK = 0
    INPUT_ERRORS = 1
    USAGE = 2
    VERDICT = 3
    INTERRUPTED = 130


#: status -> meaning; when several apply, the highest of 1 and 3 wins (3: a --fail-on gate is never hidden by
#: an unreadable file, which is still listed)
EXIT_CODES: dict[int, str] = {
    ExitCode.OK: "done: every input was processed",
    ExitCode.INPUT_ERRORS: "some inputs could not be read or written (each named on stderr; the rest was "
                           "done), or `weights verify`/`fetch` found a file missing or corrupt",
    ExitCode.USAGE: "usage or configuration error (bad option, policy, model folder, weights): nothing done",
    ExitCode.VERDICT: "`assess --fail-on review|fail`: an image got that verdict or worse (also when some "
                      "files were unreadable)",
    ExitCode.INTERRUPTED: "interrupted by Ctrl-C (SIGTERM gives 143); results so far are kept",
}
