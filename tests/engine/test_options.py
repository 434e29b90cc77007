"""Engine options, the local engine in this process, and the refusal of ``--engine ray`` without Ray."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from artlens.engine.local import LocalEngine
from artlens.engine.options import EngineKind, EngineOptions
from artlens.errors import ConfigError


def test_options_are_checked() -> None:
    assert EngineOptions().kind is EngineKind.local and not EngineOptions().is_ray
    assert EngineOptions(kind="ray", actors=2).is_ray
    with pytest.raises(ConfigError, match="--engine spark: unknown engine"):
        EngineOptions(kind="spark")
    with pytest.raises(ConfigError, match="need --engine ray"):
        EngineOptions(address="auto")
    with pytest.raises(ConfigError, match="--actors -1"):
        EngineOptions(kind="ray", actors=-1)


@dataclass
class _Lengths:
    """A job whose setup is counted and whose result is the path's length; paths named ``bad`` fail."""

    default_batch_size: int = 3
    preload: tuple[str, ...] = ()
    setups: list[int] = field(default_factory=list)

    def setup(self) -> None:
        self.setups.append(1)

    def run(self, paths: Sequence[str]) -> list[tuple[str, int | None, str | None]]:
        return [(p, None, f"{p}: bad") if p.startswith("bad") else (p, len(p), None) for p in paths]


def test_local_engine_in_process_sets_up_once_and_keeps_every_outcome() -> None:
    job = _Lengths()
    paths = ["a", "bb", "bad1", "cccc", "ddddd", "bad2", "e"]
    outcomes = list(LocalEngine(workers=1).map(job, paths))
    assert job.setups == [1]
    assert [o[0] for o in outcomes] == paths
    assert {p: v for p, v, _ in outcomes if v is not None} == {"a": 1, "bb": 2, "cccc": 4, "ddddd": 5, "e": 1}
    assert [e for _, _, e in outcomes if e] == ["bad1: bad", "bad2: bad"]
    assert list(LocalEngine(workers=1).map(job, [])) == [] and job.setups == [1]  # nothing to do: no set-up


@pytest.mark.parametrize("command", [["assess", "{dir}", "--no-db"], ["index", "build", "{dir}", "--index",
                                                                          "{dir}/idx"]])
def test_engine_ray_without_ray_is_refused_in_one_line(tmp_path, command) -> None:
    """With Ray missing (its import blocked), ``--engine ray`` exits 2 with one line naming the install."""
    args = [a.format(dir=tmp_path) for a in command] + ["--engine", "ray"]
    code = ("import sys\n"
            "sys.modules['ray'] = None\n"  # `import ray` now raises ImportError, as without Ray installed
            f"sys.argv = ['artlens', *{args!r}]\n"
            "from artlens.cli import main\n"
            "main()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "--engine ray: Ray is not installed" in lines[0] and "pip install 'artlens[ray]'" in lines[0]
    assert not (tmp_path / "idx").exists()  # refused before anything was made
