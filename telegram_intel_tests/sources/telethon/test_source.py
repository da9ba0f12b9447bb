"""TelethonSource against the real PostgreSQL, fed real TL objects by the client double."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from telethon.tl import types

from telegram_intel.db import sync_state as state
from telegram_intel.db.sync_state import DatabaseSyncStore
from telegram_intel.sources.telethon.config import parse_allowed_chats
from telegram_intel.sources.telethon.source import TelegramRetryLater, TelethonSource
from telegram_intel_tests.support import telethon_fakes as f
from telegram_intel_tests.support.telethon import (
    ALICE,
    BOB,
    ME,
    DEV,
    DEV_ID,
    FAMILY_ID,
    NEWS_ID,
    STRANGER,
    NoSleep,
    build_client,
    make_config,
    snapshot,
)


def run(coro):
    return asyncio.run(coro)


def sync(engine, storage_dir, client=None, config=None, sleep=None, **kw):
    src = TelethonSource(client or build_client(), DatabaseSyncStore(engine, storage_dir), config or make_config(),
                         sleep=sleep or NoSleep(), **kw)
    return src, run(src.sync_all())


def scalar(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def test_full_sync_writes_whitelisted_chats_members_messages_and_media(engine, storage_dir):
    client = build_client()
    _, results = sync(engine, storage_dir, client)

    by_chat = {r.chat_id: r for r in results}
    assert set(by_chat) == {DEV_ID, FAMILY_ID, NEWS_ID}  # @NewsCh resolved by username, stranger not whitelisted
    assert by_chat[DEV_ID].messages_new == 230 and by_chat[DEV_ID].batches == 3
    assert by_chat[DEV_ID].cursor_before == 0 and by_chat[DEV_ID].cursor_after == 230
    assert by_chat[FAMILY_ID].cursor_after == 5013 and by_chat[NEWS_ID].cursor_after == 30
    assert by_chat[DEV_ID].participants == 5 and by_chat[NEWS_ID].participants is None

    with engine.connect() as conn:
        chats = {r.chat_id: r for r in conn.execute(sa.text("SELECT * FROM telegram_chats"))}
        assert chats[DEV_ID].type == "supergroup" and chats[DEV_ID].username == "devchat"
        assert chats[DEV_ID].members_count == 5 and chats[DEV_ID].source == "telethon"
        assert chats[NEWS_ID].type == "channel" and chats[NEWS_ID].members_count == 1200
        assert chats[FAMILY_ID].type == "group" and chats[FAMILY_ID].members_count == 3
        assert all(c.last_scanned_at is not None for c in chats.values())
        assert conn.execute(sa.text("SELECT count(*) FROM telegram_messages WHERE chat_id = :c"),
                            {"c": STRANGER.id}).scalar() == 0
        alice = conn.execute(sa.text("SELECT * FROM telegram_users WHERE user_id = 333")).one()
        assert (alice.display_name, alice.username, alice.is_bot, alice.language_code) == (
            "Alice Smith", "alice", False, "en")
        assert conn.execute(sa.text("SELECT is_bot FROM telegram_users WHERE user_id = 555")).scalar() is True
        m2 = conn.execute(sa.text(f"SELECT * FROM telegram_messages WHERE chat_id = {DEV_ID} AND message_id = 2")).one()
        assert m2.text.startswith("Привет 😀 bold 2") and m2.date.tzinfo is not None
        assert [e["type"] for e in m2.entities] == ["bold", "link", "mention"]
        assert m2.raw["_"] == "Message" and m2.raw["peer_id"]["channel_id"] == 1234567890
        svc = conn.execute(sa.text(f"SELECT * FROM telegram_messages WHERE chat_id = {DEV_ID} AND message_id = 19")).one()
        assert (svc.kind, svc.action, svc.actor_id, svc.reply_to_message_id) == ("service", "pin_message", 444, 17)
        post = conn.execute(sa.text(f"SELECT * FROM telegram_messages WHERE chat_id = {NEWS_ID} AND message_id = 3")).one()
        assert post.sender_id == NEWS_ID and post.sender_name == "News"  # channel posts are by the channel
        files = {(r.message_id, r.status) for r in conn.execute(
            sa.text(f"SELECT message_id, status FROM telegram_files WHERE chat_id = {DEV_ID}"))}
    assert (5, "present") in files and (6, "present") in files and (7, "present") in files
    assert (8, "not_included") in files and (9, "not_included") in files  # sticker/video: type not configured
    assert (10, "not_included") in files and (30, "present") in files  # 30 MB document: over the size limit
    assert (25, "present") in files  # expired file reference: re-fetched, then downloaded
    assert ("get_messages", DEV_ID, 25) in client.calls
    stored = list((storage_dir / "telegram" / "media" / str(DEV_ID)).rglob("*.*"))
    assert stored and not list(storage_dir.glob(".download-*"))  # temp downloads cleaned up


def test_second_sync_fetches_only_new_messages_and_is_a_no_op_otherwise(engine, storage_dir):
    client = build_client(dev_count=120)
    sync(engine, storage_dir, client)
    before = snapshot(engine)

    _, again = sync(engine, storage_dir, client)
    assert all(r.messages_seen == 0 for r in again)
    assert snapshot(engine) == before
    assert ("iter_messages", DEV_ID, 120, None, None) in client.calls  # min_id = cursor

    for i in (121, 122):
        client.messages[DEV_ID][i] = f.message(i, DEV, f"new {i}", sender=ALICE)
    _, third = sync(engine, storage_dir, client)
    dev = next(r for r in third if r.chat_id == DEV_ID)
    assert (dev.messages_new, dev.cursor_before, dev.cursor_after) == (2, 120, 122)


def test_first_sync_goes_back_only_to_the_configured_date(engine, storage_dir):
    since = f.T0 + timedelta(minutes=200)
    _, results = sync(engine, storage_dir, config=make_config(since=since))
    dev = next(r for r in results if r.chat_id == DEV_ID)
    assert dev.messages_new == 31  # messages 200..230
    assert scalar(engine, f"SELECT min(message_id) FROM telegram_messages WHERE chat_id = {DEV_ID}") == 200


def _batch_points(engine, storage_dir):
    """Number of committed batches in an uninterrupted sync of the world."""
    src, results = sync(engine, storage_dir)
    return sum(r.batches for r in results)


@pytest.mark.parametrize("where", ["after_commit", "before_cursor", "mid_batch"])
def test_sync_interrupted_after_any_batch_then_rerun_gives_identical_rows(engine, storage_dir, monkeypatch, where):
    from telegram_intel_tests.conftest import truncate_all

    total = _batch_points(engine, storage_dir)
    expected = snapshot(engine)
    assert total == 5  # 3 batches of the supergroup, 1 each for the group and the channel

    class Crash(BaseException):
        """Like a killed process: nothing catches it."""

    for k in range(total):
        truncate_all(engine)
        client = build_client()
        if where == "mid_batch":
            # the k-th batch is half-read when the process dies: nothing of it is committed
            src = TelethonSource(client, DatabaseSyncStore(engine, storage_dir), make_config(), sleep=NoSleep())
            seen = {"n": 0}
            real = src.store_messages

            async def store(chat, messages, real=real, seen=seen):
                if seen["n"] == k:
                    raise Crash()
                seen["n"] += 1
                return await real(chat, messages)

            src.store_messages = store
            with pytest.raises(Crash):
                run(src.sync_all())
        else:
            calls = {"n": 0}
            real_set = state.set_cursor

            def set_cursor(engine_, chat_id, last, account_id=0, real_set=real_set, calls=calls):
                if where == "before_cursor" and calls["n"] == k:
                    raise Crash()  # the batch committed, the cursor did not move
                value = real_set(engine_, chat_id, last, account_id)
                calls["n"] += 1
                if where == "after_commit" and calls["n"] == k + 1:
                    raise Crash()
                return value

            monkeypatch.setattr(state, "set_cursor", set_cursor)
            with pytest.raises(Crash):
                sync(engine, storage_dir, client)
            monkeypatch.setattr(state, "set_cursor", real_set)
        sync(engine, storage_dir, build_client())  # a new process resumes
        assert snapshot(engine) == expected, f"interrupted at batch {k} ({where})"


def test_short_flood_wait_is_slept_and_the_sync_completes(engine, storage_dir):
    sync(engine, storage_dir, build_client())
    expected = snapshot(engine)

    from telegram_intel_tests.conftest import truncate_all

    truncate_all(engine)
    client = build_client()
    client.fail("iter_messages", f.flood(17), after=150)
    client.fail("download_media", f.flood(3))
    sleep = NoSleep()
    sync(engine, storage_dir, client, sleep=sleep)
    assert 17 in sleep.waits and 3 in sleep.waits
    assert snapshot(engine) == expected
    resumed = [c for c in client.calls if c[0] == "iter_messages" and c[1] == DEV_ID]
    assert [c[2] for c in resumed] == [0, 100]  # restarted from the committed cursor, not from scratch


def test_long_flood_wait_ends_the_run_with_retry_after(engine, storage_dir):
    client = build_client()
    client.fail("iter_messages", f.flood(3600), after=150)
    sleep = NoSleep()
    with pytest.raises(TelegramRetryLater) as info:
        sync(engine, storage_dir, client, sleep=sleep)
    assert info.value.seconds == 3600 and "FloodWait" in str(info.value)
    assert sleep.waits == []  # no busy loop, no sleeping an hour in-process
    assert state.get_cursor(engine, DEV_ID, ME.id) == 100  # the first batch stays committed


def test_disconnects_are_retried_with_backoff_and_give_up_eventually(engine, storage_dir):
    client = build_client()
    client.fail("iter_messages", ConnectionError("reset by peer"), after=30)
    client.fail("iter_dialogs", ConnectionError("reset by peer"), after=1)
    sleep = NoSleep()
    _, results = sync(engine, storage_dir, client, sleep=sleep)
    assert sum(r.messages_new for r in results) == 230 + 13 + 30
    assert sleep.waits == [1, 1]

    from telegram_intel_tests.conftest import truncate_all

    truncate_all(engine)
    client = build_client()
    client.fail("iter_messages", ConnectionError("down"), after=0, times=99)
    sleep = NoSleep()
    with pytest.raises(ConnectionError):
        sync(engine, storage_dir, client, sleep=sleep, max_retries=3)
    assert sleep.waits == [1, 2, 4]


def test_takeout_is_used_for_backfills_and_its_approval_delay_is_a_retry(engine, storage_dir):
    client = build_client(dev_count=10)
    sync(engine, storage_dir, client, config=make_config(takeout=True))
    assert client.takeout_used
    assert any(c[0] == "iter_messages" and c[4] == 0 for c in client.calls)  # wait_time=0 under takeout

    client = build_client(dev_count=10)
    client.takeout_delay = 86400
    with pytest.raises(TelegramRetryLater) as info:
        sync(engine, storage_dir, client, config=make_config(takeout=True))
    assert info.value.seconds == 86400 and "approval" in info.value.reason


def test_usernames_are_resolved_once_and_then_cached(engine, storage_dir):
    # A whitelisted public channel that is not among the dialogs: resolved with get_entity once,
    # later runs find its id in the chats table.
    client = build_client()
    client.dialog_entities.remove(client.entities[NEWS_ID])
    sync(engine, storage_dir, client)
    assert ("get_entity", "newsch") in client.calls
    client.calls.clear()
    sync(engine, storage_dir, client)
    assert ("get_entity", "newsch") not in client.calls and ("get_entity", NEWS_ID) in client.calls
    assert state.chat_ids_by_username(engine, ["newsch"]) == {"newsch": NEWS_ID}


def test_participants_with_bios_and_admin_only_member_lists(engine, storage_dir):
    src = TelethonSource(build_client(), DatabaseSyncStore(engine, storage_dir), make_config(fetch_bios=True), sleep=NoSleep())
    chats = dict((r.chat_id, e) for e, r in run(src.sync_chats()))
    assert run(src.sync_participants(chats[DEV_ID])) == 5
    assert run(src.sync_participants(chats[NEWS_ID])) == 0  # broadcast: ChatAdminRequiredError
    assert scalar(engine, "SELECT bio FROM telegram_users WHERE user_id = 333") == "Interior architect in Istanbul"


def test_media_download_errors_leave_the_file_pending_but_store_the_message(engine, storage_dir):
    client = build_client(dev_count=10)
    client.expired_refs.add(b"fresh")  # re-fetching does not help either
    client.messages[DEV_ID][5].media.photo.file_reference = b"expired"
    sync(engine, storage_dir, client)
    assert scalar(engine, f"SELECT status FROM telegram_files WHERE chat_id = {DEV_ID} AND message_id = 5") == "pending"
    assert scalar(engine, f"SELECT count(*) FROM telegram_messages WHERE chat_id = {DEV_ID}") == 10


def test_no_media_configured_marks_files_not_included(engine, storage_dir):
    sync(engine, storage_dir, build_client(dev_count=10), config=make_config(media_types=frozenset()))
    with engine.connect() as conn:
        statuses = set(conn.execute(sa.text("SELECT status FROM telegram_files")).scalars())
    assert statuses == {"not_included"}
    assert not (storage_dir / "telegram" / "media").exists()


def test_identical_media_is_stored_once_per_chat(engine, storage_dir):
    client = build_client(dev_count=10)
    same = client.messages[DEV_ID][5].media
    client.messages[DEV_ID][9] = f.message(9, DEV, "again", sender=ALICE, media=same)
    sync(engine, storage_dir, client)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            f"SELECT sha256, file_path FROM telegram_files WHERE chat_id = {DEV_ID} AND message_id IN (5, 9)")).all()
    assert len(rows) == 2 and rows[0] == rows[1]
    assert len(list((storage_dir / "telegram" / "media" / str(DEV_ID)).rglob("*.jpg"))) == 1


def test_a_remembered_id_the_session_cannot_resolve_falls_back_to_the_username(engine, storage_dir):
    client = build_client()
    client.dialog_entities.remove(client.entities[NEWS_ID])
    sync(engine, storage_dir, client)
    client.fail("get_entity", ValueError("Could not find the input entity"))  # e.g. a new string session
    client.calls.clear()
    _, results = sync(engine, storage_dir, client)
    assert NEWS_ID in {r.chat_id for r in results}
    assert [c for c in client.calls if c[0] == "get_entity"] == [("get_entity", NEWS_ID), ("get_entity", "newsch")]


# -- several accounts, channel comments ----------------------------------------------------------------------------
def test_two_accounts_sharing_a_chat_store_one_chat_and_who_saw_each_message(engine, storage_dir):
    second = f.user(888, "Second", "Account", "second", is_self=True)
    shared = f.channel(1500600700, "Shared Group")
    shared_id = -1001500600700
    msgs = [f.message(i, shared, f"m{i}", sender=ALICE) for i in range(1, 8)]
    # The first account saw 1-5 (then left), the second joined later and sees 3-7.
    first_client = f.FakeTelegramClient(me=ME, dialogs=[shared], others=[ALICE], messages={shared_id: msgs[:5]})
    second_client = f.FakeTelegramClient(me=second, dialogs=[shared], others=[ALICE], messages={shared_id: msgs[2:]})
    allowed = parse_allowed_chats(str(shared_id))
    sync(engine, storage_dir, first_client, make_config(allowed=allowed, account="work", participants=False))
    sync(engine, storage_dir, second_client, make_config(allowed=allowed, account="home", participants=False))

    with engine.connect() as conn:
        seen = dict(conn.execute(sa.text(
            "SELECT message_id, account_ids FROM telegram_messages WHERE chat_id = :c"), {"c": shared_id}).all())
        assert conn.execute(sa.text("SELECT count(*) FROM telegram_chats")).scalar() == 1
        accounts = conn.execute(sa.text("SELECT account_id, name FROM telegram_accounts ORDER BY 1")).all()
        owners = conn.execute(sa.text("SELECT user_id FROM telegram_users WHERE is_owner ORDER BY 1")).scalars().all()
    assert seen == {1: [ME.id], 2: [ME.id], 3: [ME.id, 888], 4: [ME.id, 888], 5: [ME.id, 888], 6: [888], 7: [888]}
    assert accounts == [(ME.id, "work"), (888, "home")]
    assert owners == [ME.id, 888]
    # Each account reads the chat from its own cursor (the second one still had to see 3-5).
    assert state.get_cursor(engine, shared_id, ME.id) == 5 and state.get_cursor(engine, shared_id, 888) == 7


def test_channel_comments_are_read_from_the_discussion_group_and_linked_to_their_post(engine, storage_dir):
    channel = f.channel(1400500600, "Launch News", megagroup=False)
    group = f.channel(1400500601, "Launch News Chat")
    channel_id, group_id = -1001400500600, -1001400500601

    def with_comments(n: int) -> types.MessageReplies:
        return types.MessageReplies(replies=n, replies_pts=1, comments=True, channel_id=group.id)

    posts = [f.message(1, channel, "we launched", replies=with_comments(2)),
             f.message(2, channel, "no comments here", replies=with_comments(0))]
    # The group's automatic copy of post 1, and the comments: replies in its thread.
    copy = f.message(50, group, "we launched", fwd_from=types.MessageFwdHeader(
        date=f.T0, from_id=types.PeerChannel(channel.id), channel_post=1,
        saved_from_peer=types.PeerChannel(channel.id), saved_from_msg_id=1))
    thread = [f.message(51, group, "congrats!", sender=ALICE,
                        reply_to=types.MessageReplyHeader(reply_to_msg_id=50)),
              f.message(52, group, "thanks", sender=BOB,
                        reply_to=types.MessageReplyHeader(reply_to_msg_id=51, reply_to_top_id=50))]
    client = f.FakeTelegramClient(me=ME, dialogs=[channel], others=[ALICE, BOB, group],
                                  messages={channel_id: posts}, linked={channel_id: group_id},
                                  threads={(channel_id, 1): thread})
    _, results = sync(engine, storage_dir, client,
                      make_config(allowed=parse_allowed_chats(str(channel_id)), participants=False))
    assert results[0].comments == 2
    assert [c for c in client.calls if c[0] == "iter_messages" and len(c) == 6] == [
        ("iter_messages", channel_id, 0, None, None, 1)]  # post 2 says it has none: not asked for

    with engine.connect() as conn:
        comments = conn.execute(sa.text(
            "SELECT chat_id, message_id, post_chat_id, post_message_id, account_ids FROM telegram_messages"
            " WHERE post_chat_id IS NOT NULL ORDER BY 2")).all()
        links = dict(conn.execute(sa.text("SELECT chat_id, linked_chat_id FROM telegram_chats")).all())
    assert comments == [(group_id, 51, channel_id, 1, [ME.id]), (group_id, 52, channel_id, 1, [ME.id])]
    assert links == {channel_id: group_id, group_id: channel_id}

    # Reading the discussion group's own history later does not lose the links (it knows nothing of posts).
    group_client = f.FakeTelegramClient(me=ME, dialogs=[group], others=[ALICE, BOB, channel],
                                        messages={group_id: [copy, *thread]})
    sync(engine, storage_dir, group_client, make_config(allowed=parse_allowed_chats(str(group_id)),
                                                        participants=False))
    with engine.connect() as conn:
        linked = conn.execute(sa.text(
            "SELECT message_id, post_message_id FROM telegram_messages WHERE chat_id = :g ORDER BY 1"),
            {"g": group_id}).all()
    assert linked == [(50, 1), (51, 1), (52, 1)]  # the copy links itself from its forward header
