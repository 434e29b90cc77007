"""Disjoint sets over integer labels (union by size, path halving)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["UnionFind"]


class UnionFind:
    """Groups of items joined pairwise; :meth:`groups` lists the groups of two or more."""

    def __init__(self, items: Iterable[int] = ()) -> None:
        self._parent: dict[int, int] = {}
        self._size: dict[int, int] = {}
        for item in items:
            self.add(item)

    def add(self, item: int) -> None:
        if item not in self._parent:
            self._parent[item] = item
            self._size[item] = 1

    def find(self, item: int) -> int:
        self.add(item)
        parent = self._parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self._size[ra] < self._size[rb]:
            ra, rb = rb, ra
        self._parent[rb] = ra
        self._size[ra] += self._size[rb]

    def groups(self) -> list[list[int]]:
        """Groups with at least two members, each sorted, largest group first (ties by first member)."""
        members: dict[int, list[int]] = {}
        for item in self._parent:
            members.setdefault(self.find(item), []).append(item)
        found = [sorted(g) for g in members.values() if len(g) > 1]
        return sorted(found, key=lambda g: (-len(g), g[0]))
