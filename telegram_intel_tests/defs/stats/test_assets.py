"""``chat_statistics`` and ``user_activity`` against counts made independently in Python from the raw rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta, timezone

import dagster as dg
import sqlalchemy as sa

from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.stats.assets import chat_statistics, user_activity
from telegram_intel_tests.support.dagster import metadata
from telegram_intel_tests.support.graph import busiest_days

RES = {"telegram": TelegramIntelResource()}
ASSETS = [chat_statistics, user_activity]


def expected_counts(engine):
    """(chat_statistics rows, user_activity rows) computed from telegram_messages in Python."""
    with engine.connect() as conn:
        msgs = conn.execute(sa.text(
            "SELECT chat_id, message_id, kind, date, sender_id, reply_to_message_id, has_media, deleted_at"
            " FROM telegram_messages")).all()
        ignored = {u for (u,) in conn.execute(sa.text("SELECT user_id FROM telegram_users WHERE is_ignored"))}
    sender = {(m.chat_id, m.message_id): m.sender_id for m in msgs}
    chats: dict = defaultdict(lambda: [0, 0, 0, set(), 0])
    users: dict = defaultdict(lambda: [0, 0, 0])
    for m in msgs:
        if m.deleted_at is not None:
            continue
        day = m.date.astimezone(timezone.utc).date()
        c = chats[(m.chat_id, day)]
        if m.kind == "service":
            c[1] += 1
            continue
        c[0] += 1
        c[2] += bool(m.has_media)
        c[3].add(m.sender_id)
        c[4] += m.reply_to_message_id is not None
        if m.sender_id is None or m.sender_id <= 0 or m.sender_id in ignored:
            continue
        u = users[(m.sender_id, m.chat_id, day)]
        u[0] += 1
        u[1] += m.reply_to_message_id is not None
        target = sender.get((m.chat_id, m.reply_to_message_id))
        if target and target > 0 and target != m.sender_id and target not in ignored:
            users[(target, m.chat_id, day)][2] += 1
    chat_rows = {k: (v[0], v[1], v[2], len(v[3]), v[4]) for k, v in chats.items()}
    return chat_rows, {k: tuple(v) for k, v in users.items()}


def stored(engine, lo: date | None = None, hi: date | None = None):
    where = "WHERE day >= :lo AND day < :hi" if lo else ""
    params = {"lo": lo, "hi": hi}
    with engine.connect() as conn:
        chats = {(r[0], r[1]): tuple(r[2:]) for r in conn.execute(sa.text(
            f"SELECT chat_id, day, messages, service_messages, media_messages, active_users, replies"
            f" FROM chat_statistics {where}"), params)}
        users = {(r[0], r[1], r[2]): tuple(r[3:]) for r in conn.execute(sa.text(
            f"SELECT user_id, chat_id, day, messages, replies_sent, replies_received FROM user_activity {where}"),
            params)}
    return chats, users


def within(rows: dict, lo: date, hi: date, day_index: int) -> dict:
    return {k: v for k, v in rows.items() if lo <= k[day_index] < hi}


def test_statistics_equal_direct_counts_and_backfill(ti_env, engine, graph_sample):
    exp_chats, exp_users = expected_counts(engine)
    start = date.fromisoformat(min(busiest_days(engine, 3)))
    keys = [(start + timedelta(days=i)).isoformat() for i in range(3)]
    for key in keys:  # a multi-run backfill: one run per partition
        result = dg.materialize(ASSETS, partition_key=key, resources=RES)
        assert result.success
        assert {c.check_name: c.passed for c in result.get_asset_check_evaluations()} == {
            "chat_statistics_match_messages": True, "user_activity_no_opted_out_users": True}
    lo, hi = start, start + timedelta(days=3)
    chats, users = stored(engine)
    assert chats == within(exp_chats, lo, hi, 1) and chats
    assert users == within(exp_users, lo, hi, 2) and users
    meta = metadata(result, "chat_statistics")
    assert "data:image/png;base64," in meta["messages_per_day"]
    umeta = metadata(result, "user_activity")
    assert "data:image/png;base64," in umeta["top_active_users"]
    assert "user_" in umeta["top_active_users_table"]  # pseudonyms, not names
    for u in graph_sample.truth["users"] + [graph_sample.truth["owner"]]:
        assert u["name"] not in umeta["top_active_users_table"]

    # the whole export as one ranged run (a single-run backfill over the date range)
    whole = {"dagster/asset_partition_range_start": "2025-03-30", "dagster/asset_partition_range_end": "2025-06-30"}
    result = dg.materialize(ASSETS, resources=RES, tags=whole)
    assert result.success
    chats, users = stored(engine)
    assert chats == exp_chats
    assert users == exp_users
    assert all(u[0] != graph_sample.opt_out_id for u in users)
    with engine.connect() as conn:  # chat totals count every message, opted-out users' included
        total = conn.execute(sa.text(
            "SELECT count(*) FROM telegram_messages WHERE kind <> 'service' AND deleted_at IS NULL")).scalar_one()
    assert sum(v[0] for v in chats.values()) == total

    # a replay writes nothing
    again = dg.materialize(ASSETS, resources=RES, tags=whole)
    for asset in ("chat_statistics", "user_activity"):
        m = metadata(again, asset)
        assert (m["rows_inserted"], m["rows_updated"], m["rows_deleted"]) == (0, 0, 0)

    # a deleted message (tombstone) and a newly opted-out user change only their day's rows
    with engine.begin() as conn:
        chat_id, message_id, day, gone = conn.execute(sa.text(
            "SELECT chat_id, message_id, (date AT TIME ZONE 'UTC')::date, sender_id FROM telegram_messages"
            " WHERE kind <> 'service' AND sender_id > 0 AND sender_id <> :owner ORDER BY date LIMIT 1"),
            {"owner": graph_sample.owner_id}).one()
        conn.execute(sa.text("UPDATE telegram_messages SET deleted_at = now() WHERE chat_id = :c AND message_id = :m"),
                     {"c": chat_id, "m": message_id})
        conn.execute(sa.text("UPDATE telegram_users SET is_ignored = true WHERE user_id = :u"), {"u": gone})
    rerun = dg.materialize(ASSETS, partition_key=day.isoformat(), resources=RES)
    assert rerun.success
    exp_chats, exp_users = expected_counts(engine)
    chats, users = stored(engine, day, day + timedelta(days=1))
    assert chats == within(exp_chats, day, day + timedelta(days=1), 1)
    assert users == within(exp_users, day, day + timedelta(days=1), 2)
    assert all(u[0] != gone for u in users)


def test_reaction_statistics_from_the_forum_export(ti_env, engine, storage_dir):
    """Reaction counts per chat/day/reaction and per user, against the hand-written export's own JSON."""
    import json

    from telegram_intel.defs.stats.assets import reaction_statistics, user_reactions
    from telegram_intel.pipeline.ingest import import_export
    from telegram_intel_tests.conftest import FIXTURES

    path = FIXTURES / "hand-written" / "forum_reactions.result.json"
    import_export(engine, path, storage_dir)
    chat = json.loads(path.read_text())["chats"]["list"][0]
    chat_id = -1001666000222
    expected: dict = defaultdict(lambda: [0, 0])
    received: dict = defaultdict(int)
    given: dict = defaultdict(int)
    for m in chat["messages"]:
        for r in m.get("reactions", ()):
            key = r.get("emoji") or r["type"]
            expected[key][0] += 1
            expected[key][1] += r["count"]
            received[int(m["from_id"].removeprefix("user"))] += r["count"]
            for p in r.get("recent", ()):
                given[int(p["from_id"].removeprefix("user"))] += 1
    day = date(2024, 3, 1)
    with engine.begin() as conn:  # an opted-out reactor: neither row nor "given" count
        conn.execute(sa.text("UPDATE telegram_users SET is_ignored = true WHERE user_id = 444"))

    result = dg.materialize([reaction_statistics, user_reactions], partition_key=day.isoformat(), resources=RES)
    assert result.success
    assert {c.check_name: c.passed for c in result.get_asset_check_evaluations()} == {
        "reaction_statistics_match_messages": True, "user_reactions_no_opted_out_users": True}
    with engine.connect() as conn:
        stats = {r[0]: [r[1], r[2]] for r in conn.execute(sa.text(
            "SELECT reaction, messages, reactions FROM reaction_statistics WHERE chat_id = :c AND day = :d"),
            {"c": chat_id, "d": day})}
        users = {r[0]: (r[1], r[2]) for r in conn.execute(sa.text(
            "SELECT user_id, received, given FROM user_reactions WHERE chat_id = :c AND day = :d"),
            {"c": chat_id, "d": day})}
    assert stats == dict(expected) == {"👍": [2, 3], "paid": [1, 5], "🔥": [1, 3]}
    assert users == {u: (received[u], given[u]) for u in set(received) | set(given) if u != 444}
    assert users == {111: (1, 1), 333: (0, 2)}
    meta = metadata(result, "reaction_statistics")
    assert meta["reactions"] == 11 and meta["distinct_reactions"] == 3
    assert "data:image/png;base64," in meta["top_reactions"]
