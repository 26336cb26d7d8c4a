"""The layer ships what the functions import, and nothing only the CLI runs: every module the layer's
Makefile leaves in must be reachable, import by import, from some function's handler. (The artifact
tests check the other direction: every built handler imports in the Lambda runtime.)"""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[3]
LAYER = ROOT / "layers" / "socialcare"


def _excluded() -> list[str]:
    text = (LAYER / "Makefile").read_text(encoding="utf-8")
    return [p.strip("'\"") for p in re.findall(r"--exclude=(\S+)", text)]


def _shipped_modules() -> set[str]:
    patterns = _excluded()
    shipped = set()
    for path in (LAYER / "socialcare").rglob("*.py"):
        rel = path.relative_to(LAYER)
        # tar --exclude matches a pattern against the path and against each of its parent directories
        candidates = [rel.as_posix()] + [p.as_posix() for p in rel.parents if p != Path(".")]
        if any(
            fnmatch.fnmatch(c, pat) or fnmatch.fnmatch(c.rsplit("/", 1)[-1], pat)
            for c in candidates
            for pat in patterns
        ):
            continue
        parts = rel.with_suffix("").parts
        shipped.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return shipped


def _handler_imports(graph: grimp.ImportGraph) -> set[str]:
    roots: set[str] = set()
    for handler in (ROOT / "functions").glob("*/handler.py"):
        for node in ast.walk(ast.parse(handler.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                roots.add(node.module)
                roots |= {f"{node.module}.{a.name}" for a in node.names}  # `from pkg import module`
    return {r for r in roots if r in graph.modules}


def _reachable() -> set[str]:
    graph = grimp.build_graph("socialcare")
    seen = set()
    for root in _handler_imports(graph):
        seen |= {root} | graph.find_upstream_modules(root)
    # importing a.b.c runs a/__init__ and a/b/__init__ first
    return seen | {".".join(m.split(".")[:k]) for m in seen for k in range(1, m.count(".") + 1)}


def test_every_module_the_layer_ships_is_imported_by_a_function() -> None:
    shipped, reachable = _shipped_modules(), _reachable()
    assert len(shipped) > 50 and "socialcare.cases.router" in shipped
    assert sorted(shipped - reachable) == [], "ships code no function imports: exclude it in layers/socialcare/Makefile"


def test_the_exclusion_check_sees_an_excluded_module_as_not_shipped() -> None:
    shipped = _shipped_modules()
    assert "socialcare.cli" not in shipped
    assert not any(m.startswith("socialcare.local") for m in shipped)
    assert "socialcare.ingest.commands" not in shipped and "socialcare.classify.train" not in shipped
