"""The layout of DESIGN.md, enforced: import layers (import-linter), Dagster only in defs/, SQL only in db/ and the
work layer, short asset bodies, and definitions that `dg` loads."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "telegram_intel"
BIN = Path(sys.executable).parent
# The project writes SQL keywords in upper case; prose does not.
SQL = re.compile(r"\b(SELECT\b[\s\S]+\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|"
                 r"ALTER\s+TABLE|TRUNCATE\s+\w|to_regclass\()")
SQL_HOMES = ("db", "pipeline")
MAX_ASSET_BODY_LINES = 40


def _modules(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(), str(path))


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def test_import_layers_hold():
    """Contracts in pyproject.toml [tool.importlinter]: entry points -> defs -> pipeline -> sources/ml -> db -> llm
    -> config -> lib; lib pure; Dagster only in defs/; cli/web never import defs/. No cycles between packages."""
    result = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_every_defs_module_is_dagster_wiring():
    lacking = []
    for path, tree in _modules(PACKAGE / "defs"):
        if path.name == "__init__.py":
            continue
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        if "dagster" not in imported:
            lacking.append(str(path.relative_to(ROOT)))
    assert lacking == []


def test_sql_lives_only_in_db_and_the_work_layer():
    found = []
    for path, tree in _modules(PACKAGE):
        if path.relative_to(PACKAGE).parts[0] in SQL_HOMES:
            continue
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
                    and SQL.search(node.value)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_the_sql_detector_sees_sql():
    assert SQL.search("SELECT count(*) FROM telegram_messages WHERE chat_id = :c")
    assert SQL.search("INSERT INTO t (a) VALUES (1)") and SQL.search("UPDATE telegram_users SET is_ignored = true")
    assert not SQL.search("Select the messages you want from the list, then update the profile")


def test_asset_bodies_are_short():
    from telegram_intel.definitions import defs

    long = {}
    for asset in defs.resolve_asset_graph().assets_defs:
        fn = getattr(asset.op.compute_fn, "decorated_fn", None) if asset.is_executable else None
        if fn is None:
            continue
        source = textwrap.dedent(inspect.getsource(fn))
        node = ast.parse(source).body[0]
        body = node.body[1:] if (isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)) \
            else node.body
        lines = body[-1].end_lineno - body[0].lineno + 1
        if lines > MAX_ASSET_BODY_LINES:
            long[asset.op.name] = lines
    assert long == {}


@pytest.mark.slow
def test_dg_check_defs():
    result = subprocess.run([str(BIN / "dg"), "check", "defs"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "All definitions loaded successfully" in result.stdout + result.stderr, (
        result.stdout[-4000:] + result.stderr[-4000:])
