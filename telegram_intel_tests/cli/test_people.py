"""`telegram-intel people find|ignore|unignore|forget` and the demo's opt-out of the sample's opted-out user (the
erasure itself is tested end to end in ``pipeline/test_privacy.py``)."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from telegram_intel.cli.main import main
from telegram_intel.pipeline.ingest import import_export
from telegram_intel_tools.sample_data import iter_message_truth, load_ground_truth, write_sample_export


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def ignored(engine, uid: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT is_ignored FROM telegram_users WHERE user_id = :u"), {"u": uid}).scalar()


def _sample(tmp_path, engine):
    out = tmp_path / "sample"
    write_sample_export(out, messages=200, chats=2, users=6, seed=5, media=False)
    import_export(engine, out / "result.json", tmp_path / "storage")
    return out


def test_ignore_unignore_by_id_username_and_confirmed_name(ti_env, engine, tmp_path):
    sample = _sample(tmp_path, engine)
    truth = load_ground_truth(sample)
    person = next(u for u in truth["users"] if not u["opt_out"])
    uid, name = person["user_id"], person["name"]
    with engine.begin() as conn:  # exports carry no usernames of other people; a live sync does
        conn.execute(sa.text("UPDATE telegram_users SET username = 'privacy_test' WHERE user_id = :u"), {"u": uid})
    texts = [r for r in iter_message_truth(sample)]
    phones = {p["value"] for r in texts for p in r.get("pii") or [] if p["type"] == "PHONE"}
    outputs = []

    res = run("people", "find", person["first_name"].upper())
    outputs.append(res.output)
    assert res.exit_code == 0 and f"id {uid}" in res.output and "messages" in res.output

    # an exact id or @username needs no question
    res = run("people", "ignore", "@privacy_test")
    outputs.append(res.output)
    assert res.exit_code == 0, res.output
    assert ignored(engine, uid)
    res = run("people", "unignore", str(uid))
    outputs.append(res.output)
    assert res.exit_code == 0 and not ignored(engine, uid)

    # a name is confirmed first: "no" changes nothing, "yes" opts out
    res = run("people", "ignore", name.lower(), input="n\n")
    outputs.append(res.output)
    assert res.exit_code == 1 and f"Opt out {name}" in res.output and not ignored(engine, uid)
    res = run("people", "ignore", name.lower(), input="y\n")
    outputs.append(res.output)
    assert res.exit_code == 0 and ignored(engine, uid)
    # --yes skips the question
    res = run("people", "unignore", name, "--yes")
    assert res.exit_code == 0 and not ignored(engine, uid)

    # several matches: listed, nothing changes; nobody: a clear error
    with engine.connect() as conn:
        several = conn.execute(sa.text("SELECT count(*) FROM telegram_users WHERE display_name ILIKE '%a%'")).scalar()
    assert several > 1
    res = run("people", "ignore", "a", "--yes")
    outputs.append(res.output)
    assert res.exit_code == 1 and "people match 'a'" in res.output
    with engine.connect() as conn:
        assert not conn.execute(sa.text("SELECT count(*) FROM telegram_users WHERE is_ignored")).scalar()
    res = run("people", "forget", "nobody-by-this-name", "--yes")
    assert res.exit_code == 1 and "no one matches" in res.output

    # forget always asks, even for an exact id; "no" leaves everything in place
    res = run("people", "forget", str(uid), input="n\n")
    outputs.append(res.output)
    assert res.exit_code == 1 and "Erase everything of" in res.output
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM telegram_messages WHERE sender_id = :u"),
                            {"u": uid}).scalar() > 0

    # nothing printed is message text or a phone number
    with engine.connect() as conn:
        their_texts = [t for t in conn.execute(sa.text(
            "SELECT text FROM telegram_messages WHERE sender_id = :u AND length(text) > 12"), {"u": uid}).scalars()]
    assert their_texts
    printed = "\n".join(outputs)
    assert not any(t in printed for t in their_texts) and not any(p in printed for p in phones)


def test_demo_opts_out_the_samples_opted_out_user_before_enrichment(ti_env, engine, tmp_path, monkeypatch,
                                                                    database_url):
    """The demo imports the sample through Dagster, then opts out whom the sample's ground truth marks
    ``opt_out`` — before any enrichment runs."""
    from telegram_intel.cli import demo
    from telegram_intel.config import load_settings

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    settings = load_settings()
    seen = {}

    def enrichment(instance, defs, url):  # the real one materializes every enrichment asset (minutes)
        with engine.connect() as conn:
            seen["ignored"] = set(conn.execute(sa.text("SELECT user_id FROM telegram_users WHERE is_ignored")).scalars())

    monkeypatch.setattr(demo, "_materialize_enrichment", enrichment)
    demo._materialize_sample(settings, 200, database_url)
    truth = load_ground_truth(settings.inbox_dir / "sample")
    opted_out = {u["user_id"] for u in truth["users"] if u["opt_out"]}
    assert len(opted_out) == 1
    assert seen["ignored"] == opted_out
