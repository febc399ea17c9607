"""The shape of the code, checked on the source itself: imports run one way, no circle anywhere, no module too big.

Every import counts, those inside functions too (a function-level import is still a dependency, it only hides the
circle until the function runs). See docs/architecture.md for the layers.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("pipelines", "release", "filters", "schemas", "expectations")
MAX_LINES = 600

#: Which layers a layer may import (besides itself). `pipelines` is split into its sub-packages.
ALLOWED = {
    "pipelines.cli": {"pipelines.run", "pipelines.graph", "pipelines.tools", "release", "expectations", "filters",
                      "schemas"},
    "pipelines.tools": {"pipelines.run", "filters", "schemas"},
    "pipelines.run": {"pipelines.graph", "pipelines.sources", "pipelines.stages", "release", "expectations", "filters",
                      "schemas"},
    "pipelines.graph": {"pipelines.sources", "pipelines.stages", "filters", "schemas"},
    "pipelines.stages": {"filters", "schemas"},
    "pipelines.sources": {"filters", "schemas"},
    "release": {"expectations", "filters", "schemas"},
    "expectations": {"filters", "schemas"},
    "filters": {"schemas"},
    "schemas": set(),
}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def _imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The Terroir modules `path` imports anywhere in its body (`from a import b` names module a.b when it is one)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in found if m in known}


def _graph() -> dict[str, set[str]]:
    known = _modules()
    graph = {name: _imports(path, known) - {name} for name, path in known.items()}
    # `from release import signing` also names the package; its __init__ is a dependency only when it imports
    empty = {name for name, path in known.items() if path.name == "__init__.py" and not graph[name]}
    return {name: targets - empty for name, targets in graph.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "pipelines" and len(parts) > 1 else parts[0]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_no_import_circle_anywhere():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_imports_run_one_way_between_layers():
    wrong = []
    for module, targets in _graph().items():
        layer = _layer(module)
        if layer == "pipelines":
            continue  # the package's own __init__
        for target in targets:
            other = _layer(target)
            if other != layer and other != "pipelines" and other not in ALLOWED[layer]:
                wrong.append(f"{module} imports {target} ({layer} may import only {sorted(ALLOWED[layer])})")
    assert wrong == []


def test_every_layer_is_known():
    layers = {_layer(m) for m in _modules()} - {"pipelines"}
    assert layers == set(ALLOWED), "a new package needs its place in ALLOWED and in docs/architecture.md"


def test_no_module_over_600_lines_outside_tests():
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True)
    sizes = {p: len((REPO / p).read_text(encoding="utf-8").splitlines()) for p in tracked.stdout.split()
             if not p.startswith("tests/") and (REPO / p).exists()}  # fmt: skip
    assert sizes, "git ls-files found no module"
    assert {p: n for p, n in sizes.items() if n > MAX_LINES} == {}


def test_release_package_imports_without_the_pipeline():
    code = ("import sys, release; release.open_release; release.verify; release.approve; release.iter_documents; "
            "bad = sorted(m for m in sys.modules if m.startswith('pipelines') or m in ('torch', 'datasets', "
            "'apache_beam')); print(bad); sys.exit(1 if bad else 0)")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_graph_records_function_level_imports(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from schemas.ledger import ledger_row\n    return ledger_row\n")
    assert _imports(src, _modules()) == {"schemas.ledger"}
    edges = defaultdict(set, _graph())
    assert "release.publish" in edges["pipelines.run"]  # run's import of publish sits inside a function
