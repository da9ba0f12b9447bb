"""A database already at the newest migration is opened without loading alembic; the newest migration is found by
file name, so each migration's revision must be its file's name."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from telegram_intel.db.engine import _VERSIONS, alembic_config, at_head, schema_head

ROOT = Path(__file__).resolve().parents[2]


def test_every_revision_is_its_file_name_and_the_newest_file_is_alembics_head():
    for path in sorted(_VERSIONS.glob("[0-9]*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        revision = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                        and any(getattr(t, "id", None) == "revision" for t in node.targets))
        # 0001 predates the convention; databases store its revision, so it stays.
        assert revision == path.stem or (path.name, revision) == ("0001_initial_schema.py", "0001"), path.name
    assert schema_head() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_an_up_to_date_database_opens_without_alembic_and_an_older_one_is_not_taken_for_it(engine, database_url):
    assert at_head(engine)
    code = ("import sys\nfrom telegram_intel.db.engine import make_engine, upgrade\n"
            f"upgrade(make_engine({database_url!r}))\nprint(sorted(m for m in sys.modules if m.startswith('alembic')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0016_decisions'"))
    try:
        assert not at_head(engine)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": schema_head()})
