"""The house rules of the package layout, checked on the source (AST): small functions,
no private names imported across modules (within a subpackage they may
be: kneedata.models.*), no import cycle (function-level imports
included), data flowing one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kneedata"
MAX_LINES = 100  # lines of code per function, docstring excluded (brief: "small functions")


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return out


MODULES = _modules()



def code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function's body holding code (docstring, blank and comment lines excluded)."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                             ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    lines: set[int] = set()
    for stmt in body:
        for sub in ast.walk(stmt):
            if hasattr(sub, "lineno"):
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    # a multi-line string literal (inner docstring, message) counts as the lines it spans
    return len(lines)


def long_functions(limit: int = MAX_LINES) -> list[str]:
    found = []
    for module, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = code_lines(node)
                if n > limit:
                    found.append(f"{module}.{node.name} ({n} lines)")
    return found


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not MODULES.get(module) or not (PACKAGE / Path(*base[1:]) / "__init__.py").exists():
        base = base[:-1]  # a module, not a package: relative to its package
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports() -> dict[str, set[str]]:
    """Module -> kneedata modules it imports anywhere (module or function level)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(module, node)
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source
                           for a in node.names]
            else:
                continue
            for target in targets:
                # the package's __init__ only re-exports lazily: not a dependency
                if target in MODULES and target != "kneedata" and target != module:
                    graph[module].add(target)
    return graph


def _same_subpackage(module: str, source: str) -> bool:
    """Both in one subpackage (kneedata.models.*): its modules share private helpers."""
    a, b = module.split("."), source.split(".")
    return len(a) > 2 and len(b) > 2 and a[:2] == b[:2]


def private_imports() -> list[str]:
    found = []
    for module, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and _resolve(module, node).startswith("kneedata"):
                source = _resolve(module, node)
                if source == module or _same_subpackage(module, source):
                    continue
                for alias in node.names:
                    # a private module of the package (kneedata._dates) is shared on purpose
                    if alias.name.startswith("_") and alias.name != "__version__":
                        found.append(f"{module} imports {source}.{alias.name}")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_checks_see_what_they_check():
    # hand-built source: a 3-line function with a docstring, a private import, a cycle
    tree = ast.parse('def f():\n    """doc\n    more"""\n    a = 1\n    b = (2,\n         3)\n')
    assert code_lines(tree.body[0]) == 3
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert _same_subpackage("kneedata.models.daily", "kneedata.models.engines")
    assert not _same_subpackage("kneedata.report", "kneedata.models.engines")
    assert not _same_subpackage("kneedata.models", "kneedata.models.engines")
    assert len(MODULES) > 20 and "kneedata.pipeline" in MODULES


def test_no_function_over_100_lines_of_code():
    assert long_functions() == [], "split these functions (house style: small functions)"


def test_no_private_name_imported_across_modules():
    assert private_imports() == [], "make the name public or move it where it is used"


def test_no_import_cycle():
    assert cycles(imports()) == []


@pytest.mark.parametrize(("lower", "upper"), [
    ("kneedata.io", "kneedata.store"), ("kneedata.metrics", "kneedata.frame"),
    ("kneedata.metrics", "kneedata.models"), ("kneedata.frame", "kneedata.report"),
    ("kneedata.models", "kneedata.plots"), ("kneedata.metrics", "kneedata.pipeline"),
])
def test_data_flows_one_way(lower, upper):
    graph = imports()
    back = [f"{m} -> {t}" for m in graph if m.startswith(lower) for t in graph[m]
            if t.startswith(upper)]
    assert back == []
