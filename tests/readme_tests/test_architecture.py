"""The README's table of the package's layers matches what each module really imports.

Every ``import`` of every module of ``optuna_srprune`` (lazy ones inside functions too: they are
dependencies all the same) must go to a lower level of the table, or stay inside its own package.
"""

from __future__ import annotations

import ast
from pathlib import Path
import re

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "optuna_srprune"
SECTION = "## Architecture"


def layer_table() -> dict[str, int]:
    """``{top-level module or package: level}`` from the table under ``## Architecture``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.find("\n## ", len(SECTION))]
    levels: dict[str, int] = {}
    for row in re.findall(r"^\| *(\d+) *\|([^|]*)\|", section, re.M):
        level, names = int(row[0]), re.findall(r"`([\w.]+)`", row[1])
        for name in names:
            levels[name] = level
    return levels


def _imported(tree: ast.AST) -> set[str]:
    """Top-level names of ``optuna_srprune`` that a module imports (``config``, ``_names``, ...)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
            if node.module == "optuna_srprune":  # from optuna_srprune import config, _names
                modules = [f"optuna_srprune.{alias.name}" for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "optuna_srprune" and len(parts) > 1:
                found.add(parts[1])
    return found


def _owner(path: Path) -> str:
    """The top-level module or package a file belongs to."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def test_the_layer_table_matches_the_imports() -> None:
    levels = layer_table()
    owners = {_owner(p) for p in PACKAGE.rglob("*.py")} - {"__init__", "__main__"}
    assert owners <= set(levels), f"modules missing from the README's table: {sorted(owners - set(levels))}"
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        owner = _owner(path)
        if owner in ("__init__", "__main__"):  # the package's root and entry point sit above all
            continue
        for target in _imported(ast.parse(path.read_text(encoding="utf-8"))):
            if target == owner or target not in levels:
                continue
            if levels[target] >= levels[owner]:
                upward.append(f"{path.relative_to(REPO)} ({owner}, level {levels[owner]}) imports "
                              f"{target} (level {levels[target]})")  # fmt: skip
    assert not upward, "imports that do not go down the README's layer table:\n" + "\n".join(upward)
