"""The command line's one output rule, its exit codes and environment variables, its early input checks."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from artlens.cli import app, output
from artlens.cli.exitcodes import EXIT_CODES, ExitCode
from artlens.cli.search import _duplicates_table, _recommend_table, _similar_table
from artlens.envvars import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[1]
LONG = "brisque_live_normalize_with_a_much_longer_name"


def on_a_terminal(*args: str, columns: int) -> str:
    """``artlens ARGS`` with stdout on a pseudo-terminal ``columns`` wide; what it printed there."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm"}
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "NO_COLOR"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "artlens", *args], stdout=follower,
                            stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode())


def terminal(monkeypatch: pytest.MonkeyPatch, width: int) -> io.StringIO:
    buffer = io.StringIO()
    monkeypatch.setattr(output, "out", Console(file=buffer, force_terminal=True, width=width,
                                               color_system=None))
    return buffer


def test_plain_columns_in_a_pipe_keep_every_character(capsys: pytest.CaptureFixture[str]) -> None:
    output.print_table(("name", "state"), [(LONG, "[green]verified[/]"), ("x\ty", "a\nb")], title="t")
    assert capsys.readouterr().out.splitlines() == ["name\tstate", f"{LONG}\tverified", "x y\ta b"]


def test_a_terminal_table_folds_long_cells_instead_of_cutting_them(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = terminal(monkeypatch, 30)
    output.print_table(("name", "state"), [(LONG, "verified")])
    text = buffer.getvalue()
    assert "…" not in text and "│" in text
    cells = "".join(line.split("│")[1].strip() for line in text.splitlines() if line.count("│") == 3)
    assert LONG in cells


def test_weights_list_is_whole_in_a_pipe_and_on_a_narrow_terminal() -> None:
    piped = subprocess.run([sys.executable, "-m", "artlens", "weights", "list"], capture_output=True,
                           text=True, check=True, timeout=120).stdout.splitlines()
    assert piped[0].split("\t")[:2] == ["name", "state"]
    assert "brisque_live_normalize" in [line.split("\t")[0] for line in piped]
    assert "…" not in "".join(piped)
    shown = on_a_terminal("weights", "list", columns=70)
    assert "…" not in shown and "┃" in shown  # a table, with nothing cut off
    wide = on_a_terminal("weights", "list", columns=250)
    assert re.search(r"│ brisque_live_normalize\s+│", wide)


def test_search_tables_have_one_row_per_result(capsys: pytest.CaptureFixture[str]) -> None:
    _similar_table({"by": "content", "index": "idx", "queries": [
        {"query": "q.jpg", "results": [{"rank": 1, "path": "a.jpg", "score": 0.91234},
                                        {"rank": 2, "path": "b [1].jpg", "score": 0.5}]}]})
    _recommend_table({"profile": {"liked": 1, "disliked": 0, "seen": 0},
                      "results": [{"rank": 1, "path": "c.jpg", "relevance": 0.75}]})
    _duplicates_table({"summary": {"groups": 1}, "groups": [
        {"group": 1, "kind": "exact", "keep": "k.jpg", "keep_reason": "kept: passes the general policy",
         "members": [{"path": "k.jpg"}, {"path": "d.jpg"}, {"path": "e.jpg"}]}]})
    assert capsys.readouterr().out.splitlines() == [
        "query\trank\tsimilar image\tcosine", "q.jpg\t1\ta.jpg\t0.912", "q.jpg\t2\tb [1].jpg\t0.500",
        "rank\trecommended image\trelevance", "1\tc.jpg\t0.750",
        "group\tkind\tkeep (suggested)\twhy\tcopies",
        "1\texact\tk.jpg\tkept: passes the general policy\td.jpg; e.jpg"]


def test_classify_table_names_the_class_and_the_runners_up(capsys: pytest.CaptureFixture[str]) -> None:
    from artlens.cli.classify import _print_predictions

    report = {"model": {"path": "m", "heads": {"label": ["cat", "cup"], "kind": ["animal", "other"]}},
              "images": [{"path": "x.png", "heads": {
                  "label": {"label": "cat", "score": 0.875, "topk": [["cat", 0.875], ["cup", 0.125]]},
                  "kind": {"label": "animal", "score": 0.99, "topk": [["animal", 0.99]]}}}]}
    _print_predictions(report)
    assert capsys.readouterr().out.splitlines() == [
        "image\thead\tclass\tprobability\tnext", "x.png\tlabel\tcat\t88%\tcup 12%",
        "x.png\tkind\tanimal\t99%\t—"]


def test_help_lists_every_environment_variable_and_exit_code() -> None:
    shown = subprocess.run([sys.executable, "-m", "artlens", "--help"], capture_output=True, text=True,
                           check=True, timeout=120, env={**os.environ, "COLUMNS": "200"}).stdout
    for name in ENVIRONMENT:
        assert name in shown
    for code in EXIT_CODES:
        assert re.search(rf"^\s*{code}\s", shown, re.M)


def test_every_environment_variable_read_is_documented() -> None:
    pattern = re.compile(r"""(?:environ(?:\.get)?[\[(]|getenv\(|envvar=)\s*["']([A-Z][A-Z0-9_]+)["']""")
    read = {name for path in (ROOT / "src").rglob("*.py")
            for name in pattern.findall(path.read_text(encoding="utf-8"))}
    read.discard("OMP_NUM_THREADS")  # set for worker processes, never read
    assert {"ARTLENS_CACHE", "ARTLENS_WEIGHTS_DIR", "ARTLENS_THREADS"} <= read  # the pattern finds them
    assert read <= set(ENVIRONMENT), f"not in artlens.envvars.ENVIRONMENT: {sorted(read - set(ENVIRONMENT))}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [name for name in ENVIRONMENT if f"`{name}`" not in readme] == []
    for code in EXIT_CODES:
        assert re.search(rf"^\| {code} \|", readme, re.M), f"exit code {code} missing from the README table"


def test_missing_inputs_are_reported_before_any_model_loads(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a model was loaded for inputs that do not exist")

    monkeypatch.setattr("artlens.assess.pipeline.run_assessment", must_not_run)
    monkeypatch.setattr("artlens.classify.model.load_classifier", must_not_run)
    runner = CliRunner()
    assessed = runner.invoke(app, ["assess", str(tmp_path / "gone.jpg"), "--no-db"])
    assert assessed.exit_code == ExitCode.INPUT_ERRORS and "gone.jpg: no such file" in assessed.stderr
    classified = runner.invoke(app, ["classify", str(tmp_path), str(tmp_path / "a.jpg"),
                                     str(tmp_path / "b.jpg")])
    assert classified.exit_code == ExitCode.INPUT_ERRORS
    assert classified.stderr.count("no such file or folder") == 2 and classified.stdout == ""
