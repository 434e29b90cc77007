"""The SQLite results store: keyed by content hash and settings, committed per result."""

from __future__ import annotations

import sqlite3

import pytest

from artlens.errors import ArtlensError
from artlens.store import Store


def test_put_and_get_by_hash_and_settings(tmp_path) -> None:
    with Store(tmp_path / "r.db") as store:
        store.put_result("k1", "a" * 64, {"x": 1})
        store.put_result("k1", "b" * 64, {"x": 2})
        store.put_result("k2", "a" * 64, {"x": 3})
        found = store.get_results("k1", ["a" * 64, "b" * 64, "c" * 64])
        assert found == {"a" * 64: {"x": 1}, "b" * 64: {"x": 2}}
        assert store.get_results("k2", ["a" * 64]) == {"a" * 64: {"x": 3}}
        assert store.count_results() == 3 and store.count_results("k1") == 2


def test_same_key_is_replaced_not_duplicated(tmp_path) -> None:
    with Store(tmp_path / "r.db") as store:
        store.put_result("k", "a" * 64, {"x": 1})
        store.put_result("k", "a" * 64, {"x": 2})
        assert store.count_results() == 1
        assert store.get_results("k", ["a" * 64])["a" * 64] == {"x": 2}


def test_results_survive_reopening_and_many_keys(tmp_path) -> None:
    path = tmp_path / "r.db"
    with Store(path) as store:
        for i in range(1200):  # more than one IN (...) chunk
            store.put_result("k", f"{i:064x}", {"i": i})
    with Store(path) as store:
        found = store.get_results("k", [f"{i:064x}" for i in range(1200)])
        assert len(found) == 1200 and found[f"{7:064x}"] == {"i": 7}


def test_newer_schema_is_refused_clearly(tmp_path) -> None:
    path = tmp_path / "r.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(ArtlensError, match="newer than this artlens"):
        Store(path)


def test_unopenable_database_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "not-a-db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ArtlensError, match=r"the results database is damaged .*--rebuild-store"):
        Store(bad)
