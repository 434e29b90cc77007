"""The restricted unpickler: reads a pandas-layout frame pickle, refuses any other global."""

from __future__ import annotations

import gzip
import os
import pickle
import sys
import types

import numpy as np
import pytest

from artlens.text import TextCorpusError, read_frame_pickle
from artlens.text.unpickle import ALLOWED_GLOBALS


def _fake_pandas(monkeypatch) -> dict[str, type]:
    """Classes named as pandas names them, so pickle writes the globals (and NEWOBJ + BUILD) pandas does."""
    made = {}
    for parent in ("pandas", "pandas.core", "pandas.core.internals"):
        monkeypatch.setitem(sys.modules, parent, types.ModuleType(parent))
    for module, name in (("pandas.core.frame", "DataFrame"),
                         ("pandas.core.internals.managers", "BlockManager")):
        mod = types.ModuleType(module)
        cls = type(name, (), {"__module__": module, "__getstate__": lambda self: self.saved})
        setattr(mod, name, cls)
        monkeypatch.setitem(sys.modules, module, mod)
        made[name] = cls
    return made


def _frame_pickle(path, monkeypatch) -> None:
    cls = _fake_pandas(monkeypatch)
    names = np.array(["text", "meter"], dtype=object)
    values = np.array([["first line", "second line"], ["iambic", "trochaic"]], dtype=object)
    layout = {"axes": [names, np.arange(2)], "blocks": [{"values": values, "mgr_locs": slice(0, 2, 1)}]}
    manager = cls["BlockManager"]()
    manager.saved = ([names], [values], [names], {"0.14.1": layout})
    frame = cls["DataFrame"]()
    frame.saved = {"_data": manager, "_typ": "dataframe"}
    with gzip.open(path, "wb") as fh:
        pickle.dump(frame, fh, protocol=4)


def test_reads_the_columns_of_a_pandas_layout_pickle(tmp_path, monkeypatch) -> None:
    path = tmp_path / "frame.pkl.gz"
    _frame_pickle(path, monkeypatch)
    columns = read_frame_pickle(path)
    assert columns == {"text": ["first line", "second line"], "meter": ["iambic", "trochaic"]}


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("payload", [_Evil(), {"a": print}, [np.ndarray, eval]])
def test_refuses_a_pickle_naming_any_other_global(tmp_path, payload) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(payload, protocol=4))
    with pytest.raises(TextCorpusError, match="refused: the pickle names"):
        read_frame_pickle(path)


def test_the_allow_list_is_exact() -> None:
    modules = {module.split(".")[0] for module, _ in ALLOWED_GLOBALS}
    assert modules == {"numpy", "builtins", "pandas"}
    assert ("builtins", "slice") in ALLOWED_GLOBALS and ("builtins", "eval") not in ALLOWED_GLOBALS


def test_a_damaged_file_is_an_error_naming_it(tmp_path) -> None:
    path = tmp_path / "broken.pkl.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(TextCorpusError, match=r"broken\.pkl\.gz: cannot be read"):
        read_frame_pickle(path)
