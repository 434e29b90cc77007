"""The layout's rules, checked on the source: no import cycles and no imports of another module's private
names (CONTRIBUTING.md), and package ``__init__`` files that only re-export."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted((SRC / "artlens").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return found


MODULES = _modules()


def _target(name: str) -> str | None:
    """The artlens module ``name`` refers to (a module, or the module a name was imported from)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(tree: ast.Module, *, top_level_only: bool) -> set[str]:
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        out.update(t for n in names if n.startswith("artlens") and (t := _target(n)))
    return out


def _cycles(top_level_only: bool) -> list[list[str]]:
    graph = {m: _imports(tree, top_level_only=top_level_only) - {m} for m, tree in MODULES.items()}
    index, low, stack, on_stack, comps = {}, {}, [], set(), []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return comps


def test_module_level_imports_form_no_cycle():
    assert _cycles(top_level_only=True) == []


def test_no_module_imports_another_modules_private_name():
    offences = []
    for module, tree in MODULES.items():
        imported_modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("artlens"):
                for alias in node.names:
                    private = alias.name.startswith("_") and not alias.name.startswith("__")
                    if private and f"{node.module}.{alias.name}" not in MODULES:
                        offences.append(f"{module}: from {node.module} import {alias.name}")
                    if f"{node.module}.{alias.name}" in MODULES:
                        imported_modules.add(alias.asname or alias.name)
                package = node.module.rpartition(".")[0]
                private_module = any(part.startswith("_") for part in node.module.split("."))
                if private_module and not (module == package or module.startswith(package + ".")):
                    offences.append(f"{module}: imports the private module {node.module}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("artlens"):
                        imported_modules.add(alias.asname or alias.name.split(".")[0])
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in imported_modules
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                offences.append(f"{module}: uses {node.value.id}.{node.attr}")
    assert offences == [], "\n".join(offences)


@pytest.mark.parametrize("package", sorted(m for m in MODULES if (SRC / m.replace(".", "/")).is_dir()))
def test_package_init_only_re_exports(package):
    """An ``__init__`` holds no code of its own: imports, ``__all__`` and the lazy re-export only."""
    allowed = (ast.Import, ast.ImportFrom, ast.Expr, ast.Assign, ast.AnnAssign)
    body = MODULES[package].body
    assert all(isinstance(node, allowed) for node in body), [type(n).__name__ for n in body]


def test_imports_inside_functions_form_no_cycle_either():
    assert _cycles(top_level_only=False) == []


def test_no_re_exported_name_is_hidden_by_a_submodule():
    """``from artlens.pkg import name`` must give the function, not a submodule called ``name``."""
    import importlib
    import inspect

    hidden = []
    for package in (m for m in MODULES if (SRC / m.replace(".", "/")).is_dir()):
        folder = SRC / package.replace(".", "/")
        submodules = {p.stem for p in folder.glob("*.py")} | {p.name for p in folder.iterdir() if p.is_dir()}
        module = importlib.import_module(package)
        for name in sorted(set(getattr(module, "__all__", ())) & submodules):
            importlib.import_module(f"{package}.{name}")
            if inspect.ismodule(getattr(module, name)):
                hidden.append(f"{package}.{name}")
    assert hidden == []
