"""The import graph of ``src/bench``: no cycle among module-level imports, few late imports.

Read from the source with :mod:`ast` (nothing is imported). An import inside a
function is allowed where a module-level one would close a cycle (a registry
that imports the modules asking it for names) or would import a heavy optional
framework (torch, TensorFlow) for everyone who imports the module; it says
which, in a comment on its line or the line above: ``# lazy: <reason>`` or
``# cycle: <reason>``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "bench"
#: at most this many function-level imports of ``bench`` modules (issue 13)
MAX_LATE_IMPORTS = 40
REASON = re.compile(r"#\s*(lazy|cycle):\s*\S")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    targets: tuple[str, ...]  # the bench modules it imports
    path: Path
    line: int
    late: bool  # inside a function


def _modules(package: Path) -> dict[str, tuple[Path, bool]]:
    out = {}
    for p in sorted(package.rglob("*.py")):
        parts = list(p.relative_to(package.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (p, is_pkg)
    return out


def _targets(node, module: str, is_pkg: bool, modules, root: str) -> tuple[str, ...]:
    if isinstance(node, ast.Import):
        return tuple(a.name for a in node.names if a.name.split(".")[0] == root)
    if node.level:
        base = module.split(".")[: None if is_pkg else -1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != root:
        return ()
    # "from pkg import sub" imports the sub-module pkg.sub; "from mod import name" imports mod
    return tuple(dict.fromkeys(f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target
                               for a in node.names))


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(package: Path = PACKAGE) -> list[Import]:
    """Every import of a module of `package` by a module of `package`."""
    modules = _modules(package)
    root = package.name
    out: list[Import] = []
    for module, (path, is_pkg) in modules.items():

        def walk(node, late: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if _type_checking(child):
                    continue  # never executed
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    targets = _targets(child, module, is_pkg, modules, root)
                    if targets:
                        out.append(Import(module, targets, path, child.lineno, late))
                walk(child, late or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

        walk(ast.parse(path.read_text(), filename=str(path)), False)
    return out


def module_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the modules it imports at module level (their parent packages included)."""
    modules = _modules(package)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports(package):
        if imp.late:
            continue
        for t in imp.targets:
            parts = t.split(".")
            # importing a.b.c runs a/__init__ and a/b/__init__ first (but a module's own
            # parent packages are already being imported when it runs)
            for k in range(1, len(parts) + 1):
                dep = ".".join(parts[:k])
                if dep in modules and dep != imp.module and not imp.module.startswith(dep + "."):
                    graph[imp.module].add(dep)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a self-import), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph is a few hundred modules deep at most
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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
            if len(comp) > 1 or v in graph.get(v, ()):
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def late_imports(package: Path = PACKAGE) -> list[Import]:
    return [i for i in imports(package) if i.late]


def _has_reason(imp: Import) -> bool:
    lines = imp.path.read_text().splitlines()
    here = lines[imp.line - 1]
    above = lines[imp.line - 2] if imp.line >= 2 else ""
    return bool(REASON.search(here) or (above.strip().startswith("#") and REASON.search(above)))


# ------------------------------------------------------------------ the package
def test_no_cycle_among_module_level_imports():
    found = cycles(module_graph())
    assert found == [], "import cycles among module-level imports of bench: " + "; ".join(
        " -> ".join(c) for c in found)


def test_few_function_level_imports_each_with_its_reason():
    late = late_imports()
    where = [f"{i.path.relative_to(PACKAGE.parent)}:{i.line}" for i in late]
    assert len(late) <= MAX_LATE_IMPORTS, f"{len(late)} function-level imports of bench modules: {where}"
    missing = [w for i, w in zip(late, where) if not _has_reason(i)]
    assert missing == [], f"function-level imports without a `# lazy: ...` / `# cycle: ...` reason: {missing}"


def test_the_cli_imports_nothing_heavy():
    """``import bench.cli`` reaches only the command table (commands load when they run)."""
    graph = module_graph()
    reached, todo = set(), ["bench.cli"]
    while todo:
        m = todo.pop()
        if m not in reached:
            reached.add(m)
            todo.extend(graph[m])
    assert reached == {"bench.cli", "bench.text_table"}


# --------------------------------------------------------- the checker itself
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for rel, text in {"__init__.py": "", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_checker_finds_a_cycle_through_a_package(tmp_path):
    pkg = _package(tmp_path, {
        "a.py": "from .sub import b\n",
        "sub/__init__.py": "from .b import X\n",
        "sub/b.py": "X = 1\nfrom ..c import Y\n",
        "c.py": "import pkg.a\nY = 2\n",
        "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n",
    })
    assert cycles(module_graph(pkg)) == [["pkg.a", "pkg.c", "pkg.sub", "pkg.sub.b"]]


def test_checker_counts_late_imports_and_reads_their_reasons(tmp_path):
    pkg = _package(tmp_path, {
        "a.py": "def f():\n    from .b import X  # cycle: b imports a\n\n"
                "def g():\n    # lazy: pulls torch\n    from . import b\n\n"
                "def h():\n    from .b import X\n    import numpy\n",
        "b.py": "from .a import f\nX = 1\n",
    })
    late = late_imports(pkg)
    assert [(i.line, _has_reason(i)) for i in late] == [(2, True), (6, True), (9, False)]
    assert cycles(module_graph(pkg)) == []


@pytest.mark.parametrize("text", ["# lazy:", "# because", "# lazy : x"])
def test_a_reason_must_say_something(tmp_path, text):
    pkg = _package(tmp_path, {"a.py": f"def f():\n    from . import b  {text}\n", "b.py": ""})
    assert not _has_reason(late_imports(pkg)[0])
