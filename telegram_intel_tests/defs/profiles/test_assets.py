"""The profile assets on the imported sample: corpus selection, offline guesses, insufficient data, overrides,
re-analysis rules, settings and opt-out."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from telegram_intel.db.app_settings import get_settings, set_settings
from telegram_intel.pipeline import profiles as store
from telegram_intel_tests.support.dagster import metadata
from telegram_intel_tests.support.profiles import materialize_profiles, profiles


def test_profiles_on_sample(engine, imported, database_url):
    result = materialize_profiles(database_url)
    assert result.success
    corpus_md = metadata(result, "user_message_corpus")
    md = metadata(result, "user_profiles")
    rows = profiles(engine)
    inferable = [u for u in imported.truth["users"] if not u["rare"] and not u["opt_out"]]
    correct = sum(1 for u in inferable if rows[u["user_id"]]["sector"] == u["sector"])
    # same bar as the offline-method test (see test_offline_method.py for the reasoning)
    assert correct / len(inferable) >= 0.8, [(u["sector"], rows[u["user_id"]]["sector"]) for u in inferable]
    for uid in imported.rare_ids:
        assert rows[uid]["status"] == "insufficient_data"
        assert rows[uid]["job_label"] is None and rows[uid]["confidence"] is None
    assert imported.owner_id not in rows  # the account owner is not a contact
    some = rows[inferable[0]["user_id"]]
    assert some["status"] == "analyzed" and some["method"].startswith("offline:evidence+")
    assert 0 <= some["confidence"] <= 100 and some["evidence_keywords"] and some["evidence_message_ids"]
    assert corpus_md["users"] >= len(inferable) and corpus_md["messages"] > 0
    assert md["analyzed_this_run"] == len(inferable) + 1  # + the user who opts out in another test
    assert md["insufficient_data_this_run"] == len(imported.rare_ids)
    assert md["web_ui"].endswith("/people") and "sector_distribution" in md and "data:image/png" in md[
        "sector_distribution"]
    # evidence message ids point at the user's own corpus
    with engine.connect() as conn:
        for uid, row in rows.items():
            for chat_id, message_id in row["evidence_message_ids"] or []:
                assert conn.execute(sa.text(
                    "SELECT count(*) FROM user_message_corpus WHERE user_id = :u AND chat_id = :c AND message_id = :m"
                ), {"u": uid, "c": chat_id, "m": message_id}).scalar_one() == 1


def test_override_survives_reanalysis_and_rules(engine, imported, database_url):
    assert materialize_profiles(database_url).success
    target = next(u for u in imported.truth["users"] if not u["rare"] and not u["opt_out"])
    uid = target["user_id"]
    store.set_override(engine, uid, "Chief Pastry Wizard", "Hospitality")
    before = profiles(engine)[uid]

    # same day, no new messages: nothing is re-analyzed
    md = metadata(materialize_profiles(database_url), "user_profiles")
    assert md["analyzed_this_run"] == 0
    assert profiles(engine)[uid]["last_analyzed_at"] == before["last_analyzed_at"]

    # a day later with a new message: re-analyzed, the manual correction stays
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE telegram_user_ai_profiles SET last_analyzed_at = last_analyzed_at - interval '2 days'"
                             ", corpus_last_message_at = corpus_last_message_at - interval '1 hour' WHERE user_id = :u"),
                     {"u": uid})
    md = metadata(materialize_profiles(database_url), "user_profiles")
    assert md["analyzed_this_run"] == 1
    after = profiles(engine)[uid]
    assert after["last_analyzed_at"] > before["last_analyzed_at"] - timedelta(days=2)
    assert after["manual_override"] is True
    assert (after["manual_job_label"], after["manual_sector"]) == ("Chief Pastry Wizard", "hospitality")
    assert after["job_label"] == before["job_label"]  # the AI guess itself is unchanged

    # force re-analyzes everyone: still the override stays
    materialize_profiles(database_url, profiles_config={"force": True})
    again = profiles(engine)[uid]
    assert again["manual_override"] and again["manual_job_label"] == "Chief Pastry Wizard"


def test_settings_min_messages_and_daily_max(engine, imported, database_url):
    set_settings(engine, {"profile_min_messages": "1000", "profile_daily_max": "3"})
    assert get_settings(engine)["profile_min_messages"] == 1000
    md = metadata(materialize_profiles(database_url), "user_profiles")
    assert md["analyzed_this_run"] == 0  # everyone is below 1000 messages
    assert all(r["status"] == "insufficient_data" for r in profiles(engine).values())

    set_settings(engine, {"profile_min_messages": "5"})
    md = metadata(materialize_profiles(database_url), "user_profiles")
    assert md["analyzed_this_run"] == 3 and md["skipped_daily_max"] > 0
    md = metadata(materialize_profiles(database_url), "user_profiles")
    assert md["analyzed_this_run"] == 0  # today's maximum is used up
    set_settings(engine, {"profile_daily_max": "1000"})
    md = metadata(materialize_profiles(database_url), "user_profiles")
    assert md["analyzed_this_run"] > 0
