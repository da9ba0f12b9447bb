"""``chat_statistics`` and ``user_activity``: daily counts per chat and per user, with plots in the metadata."""


import time
from datetime import timedelta

import dagster as dg
import sqlalchemy as sa

from telegram_intel.lib.plots.graph import barh_chart_markdown, lines_chart_markdown, markdown_table
from telegram_intel.defs.partitions import MESSAGES_DEP, daily_message_partitions, partition_bounds
from telegram_intel.defs.stats import store
from telegram_intel.defs.resources import TelegramIntelResource

USERS_DEP = dg.AssetDep("telegram_users", partition_mapping=dg.AllPartitionMapping())
PLOT_DAYS = 60  # the charts show the days up to the partition's end, not just the partition
PLOT_CHATS = 8
PLOT_USERS = 15


def _chat_label(chat_id: int, ctype: str | None, title: str | None) -> str:
    # A private chat's title is the other person's name: show the id instead.
    if ctype in ("group", "supergroup", "channel") and title:
        return title[:32]
    return f"{ctype or 'chat'} {chat_id}"


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[MESSAGES_DEP],
    group_name="stats",
    kinds={"postgres"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[
        dg.AssetCheckSpec("chat_statistics_match_messages", asset="chat_statistics",
                          description="The partition's message and service counts equal those in telegram_messages."),
    ],
)
def chat_statistics(context: dg.AssetExecutionContext, telegram: TelegramIntelResource) -> dg.MaterializeResult:
    """Messages, service messages, media messages, active senders and replies per chat and UTC day:
    `chat_statistics`. Counts include opted-out users' messages (totals only, no content or identity).
    Re-running a day rewrites only changed rows and removes rows of days that no longer have messages."""
    engine = telegram.engine
    lo, hi = partition_bounds(context)
    started = time.perf_counter()
    result = store.refresh_chat_statistics(engine, lo, hi)
    with engine.connect() as conn:
        totals = conn.execute(sa.text(
            "SELECT COALESCE(sum(messages), 0), COALESCE(sum(service_messages), 0), COALESCE(sum(media_messages), 0),"
            " COALESCE(sum(replies), 0), count(DISTINCT chat_id) FROM chat_statistics"
            " WHERE day >= :dlo AND day < :dhi"), {"dlo": lo.date(), "dhi": hi.date()}).one()
        direct = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE kind <> 'service'), count(*) FILTER (WHERE kind = 'service')"
            " FROM telegram_messages WHERE date >= :lo AND date < :hi AND deleted_at IS NULL"),
            {"lo": lo, "hi": hi}).one()
        plot_lo = max(lo.date(), hi.date() - timedelta(days=PLOT_DAYS))
        chats = conn.execute(sa.text(
            "SELECT s.chat_id, c.type, c.title FROM chat_statistics s LEFT JOIN telegram_chats c USING (chat_id)"
            " WHERE s.day >= :plo AND s.day < :dhi GROUP BY s.chat_id, c.type, c.title"
            " ORDER BY sum(s.messages) DESC, s.chat_id LIMIT :n"),
            {"plo": plot_lo, "dhi": hi.date(), "n": PLOT_CHATS}).all()
        series_rows = conn.execute(sa.text(
            "SELECT chat_id, day, messages FROM chat_statistics WHERE day >= :plo AND day < :dhi"
            " AND chat_id = ANY(:ids)"), {"plo": plot_lo, "dhi": hi.date(), "ids": [c[0] for c in chats] or [0]}).all()
    days = [plot_lo + timedelta(days=i) for i in range((hi.date() - plot_lo).days)]
    index = {d: i for i, d in enumerate(days)}
    series = {}
    for chat_id, ctype, title in chats:
        label = _chat_label(chat_id, ctype, title)
        if label in series:
            label = f"{label} ({chat_id})"
        values = [0] * len(days)
        for cid, day, n in series_rows:
            if cid == chat_id and day in index:
                values[index[day]] = n
        series[label] = values
    messages, service, media, replies, n_chats = (int(v) for v in totals)
    duration = time.perf_counter() - started
    return dg.MaterializeResult(
        metadata={
            "rows": result.rows,
            "rows_inserted": result.inserted,
            "rows_updated": result.updated,
            "rows_deleted": result.deleted,
            "chats": n_chats,
            "messages": messages,
            "service_messages": service,
            "media_messages": media,
            "replies": replies,
            "messages_per_day": dg.MetadataValue.md(lines_chart_markdown(
                [d.isoformat() for d in days], series, title=f"Messages per day per chat (last {len(days)} days)")),
            "duration_s": round(duration, 3),
        },
        check_results=[
            dg.AssetCheckResult(check_name="chat_statistics_match_messages",
                                passed=(messages, service) == (int(direct[0]), int(direct[1])),
                                metadata={"statistics": f"{messages}/{service}",
                                          "telegram_messages": f"{direct[0]}/{direct[1]}"}),
        ],
    )


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[MESSAGES_DEP, USERS_DEP],
    group_name="stats",
    kinds={"postgres"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[
        dg.AssetCheckSpec("user_activity_no_opted_out_users", asset="user_activity", blocking=True,
                          description="No row belongs to a user who opted out (is_ignored)."),
    ],
)
def user_activity(context: dg.AssetExecutionContext, telegram: TelegramIntelResource) -> dg.MaterializeResult:
    """Messages, replies sent and replies received per user, chat and UTC day: `user_activity`. Users who
    opted out have no rows. Users appear in the metadata by pseudonym or id, never by name or text."""
    engine = telegram.engine
    lo, hi = partition_bounds(context)
    started = time.perf_counter()
    result = store.refresh_user_activity(engine, lo, hi)
    dlo, dhi = lo.date(), hi.date()
    with engine.connect() as conn:
        users, messages, replies = conn.execute(sa.text(
            "SELECT count(DISTINCT user_id), COALESCE(sum(messages), 0), COALESCE(sum(replies_sent), 0)"
            " FROM user_activity WHERE day >= :dlo AND day < :dhi"), {"dlo": dlo, "dhi": dhi}).one()
        plot_lo = max(dlo, dhi - timedelta(days=PLOT_DAYS))
        top = conn.execute(sa.text(
            """
            SELECT a.user_id, sum(a.messages) AS messages, sum(a.replies_sent), sum(a.replies_received),
                   (SELECT c.sender_pseudonym FROM clean_messages c WHERE c.sender_id = a.user_id
                      AND c.sender_pseudonym IS NOT NULL ORDER BY c.date DESC LIMIT 1) AS pseudonym
            FROM user_activity a JOIN telegram_users u ON u.user_id = a.user_id AND NOT u.is_ignored
            WHERE a.day >= :plo AND a.day < :dhi
            GROUP BY a.user_id ORDER BY sum(a.messages) DESC, a.user_id LIMIT :n
            """
        ), {"plo": plot_lo, "dhi": dhi, "n": PLOT_USERS}).all()
        leaked = conn.execute(sa.text(
            "SELECT count(*) FROM user_activity a JOIN telegram_users u ON u.user_id = a.user_id AND u.is_ignored"
        )).scalar_one()
    labels = [pseudo or f"user:{uid}" for uid, _, _, _, pseudo in top]
    duration = time.perf_counter() - started
    return dg.MaterializeResult(
        metadata={
            "rows": result.rows,
            "rows_inserted": result.inserted,
            "rows_updated": result.updated,
            "rows_deleted": result.deleted,
            "active_users": int(users),
            "messages": int(messages),
            "replies_sent": int(replies),
            "top_active_users": dg.MetadataValue.md(barh_chart_markdown(
                labels, [int(m) for _, m, _, _, _ in top],
                title=f"Most active users, messages {plot_lo.isoformat()} – {(dhi - timedelta(days=1)).isoformat()}")),
            "top_active_users_table": dg.MetadataValue.md(markdown_table(
                ["user", "messages", "replies sent", "replies received"],
                [(label, int(m), int(s), int(r)) for label, (_, m, s, r, _) in zip(labels, top)])),
            "duration_s": round(duration, 3),
        },
        check_results=[
            dg.AssetCheckResult(check_name="user_activity_no_opted_out_users", passed=leaked == 0,
                                metadata={"rows_of_opted_out_users": leaked}),
        ],
    )
