"""The retrain sensor (real DagsterInstance + real PostgreSQL): 1000+ new messages, or every 6 hours when anything
is new."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import dagster as dg
import sqlalchemy as sa

from telegram_intel.defs.automation.sensors import (
    build_retrain_sensor,
    retrain_after_new_messages_sensor,
)
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.lib.sft import Watermark
from telegram_intel.pipeline import training as store

CHAT = -1001
T0 = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def add_messages(engine, first_id: int, n: int, *, start: datetime, kind: str = "message") -> Watermark:
    """n messages (one per second from ``start``) in one chat; returns the watermark of the last one."""
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO telegram_chats (chat_id, type, title) VALUES (:c, 'supergroup', 't') "
                             "ON CONFLICT DO NOTHING"), {"c": CHAT})
        conn.execute(sa.text(
            "INSERT INTO telegram_messages (chat_id, message_id, date, kind, sender_id, text) "
            "SELECT :c, :first + g, CAST(:start AS timestamptz) + g * interval '1 second', :kind, 42, 'm' "
            "FROM generate_series(0, :n - 1) AS g"), {"c": CHAT, "first": first_id, "n": n, "start": start,
                                                       "kind": kind})
    last = first_id + n - 1
    return Watermark(start + timedelta(seconds=n - 1), CHAT, last)


def record_trained(engine, watermark: Watermark) -> None:
    """A dataset + adapter in the registry, as a finished training run leaves them."""
    store.record_dataset(engine, version=f"{watermark.key}-test", owner_ids=[42], watermark=watermark, path="/x",
                         config={}, stats={"examples": 1}, run_id=None)
    with engine.connect() as conn:
        dataset = store.get_dataset(conn, f"{watermark.key}-test")
    store.record_adapter(engine, dataset=dataset, base_model="tiny-random", base_model_path="/x", trainer="peft",
                         path="/x/adapter", merged_path=None, metrics={}, run_id=None)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def evaluate(sensor, instance, database_url, cursor):
    # as a context manager: the resource's setup (engine, migrations) and teardown run like in the daemon
    with dg.build_sensor_context(instance=instance, cursor=cursor,
                                 resources={"telegram": TelegramIntelResource(database_url=database_url)}) as context:
        return sensor.evaluate_tick(context)


def test_retrain_sensor_threshold_run_key_cursor_and_minimum_interval(engine, database_url, monkeypatch):
    monkeypatch.delenv("TELEGRAM_INTEL_RETRAIN_MIN_NEW_MESSAGES", raising=False)
    monkeypatch.delenv("TELEGRAM_INTEL_RETRAIN_MIN_INTERVAL_MINUTES", raising=False)
    trained = add_messages(engine, 1, 50, start=T0)
    record_trained(engine, trained)  # the last trained watermark: message 50
    clock = Clock(datetime.now(timezone.utc) + timedelta(hours=2))  # the adapter above is 2 h old
    sensor = build_retrain_sensor(clock=clock)  # defaults: 1000 new messages, 1 h apart

    with dg.instance_for_test() as instance:
        later = T0 + timedelta(hours=1)
        add_messages(engine, 51, 999, start=later)
        add_messages(engine, 5000, 30, start=later, kind="service")  # service messages do not count
        tick = evaluate(sensor, instance, database_url, None)
        assert tick.run_requests == [] and tick.cursor is None
        assert "999 new messages since " + trained.key in tick.skip_message

        newest = add_messages(engine, 1050, 1, start=later + timedelta(hours=1))
        tick = evaluate(sensor, instance, database_url, None)
        assert len(tick.run_requests) == 1
        (request,) = tick.run_requests
        assert request.run_key == f"retrain-{newest.key}"
        assert request.job_name in (None, "persona_training_job")
        assert request.run_config["ops"]["sft_dataset"]["config"]["until"] == newest.key
        cursor = json.loads(tick.cursor)
        assert cursor["watermark"] == newest.key

        # re-evaluation with the moved cursor: nothing new, no second run
        again = evaluate(sensor, instance, database_url, tick.cursor)
        assert again.run_requests == [] and again.cursor == tick.cursor
        # a lost cursor update gives the same run_key, which the daemon never launches twice
        replay = evaluate(sensor, instance, database_url, None)
        assert [r.run_key for r in replay.run_requests] == [request.run_key]

        # 1000 more, but within the minimum interval of the request: skipped, cursor kept
        add_messages(engine, 2000, 1000, start=later + timedelta(hours=2))
        clock.now = datetime.fromisoformat(cursor["requested_at"]) + timedelta(minutes=30)
        blocked = evaluate(sensor, instance, database_url, tick.cursor)
        assert blocked.run_requests == [] and blocked.cursor == tick.cursor  # unchanged
        assert "minimum interval" in blocked.skip_message
        clock.now += timedelta(minutes=31)
        allowed = evaluate(sensor, instance, database_url, tick.cursor)
        assert len(allowed.run_requests) == 1 and allowed.run_requests[0].run_key != request.run_key


def test_retrain_sensor_reads_threshold_from_the_environment(engine, database_url, monkeypatch):
    monkeypatch.setenv("TELEGRAM_INTEL_RETRAIN_MIN_NEW_MESSAGES", "10")
    add_messages(engine, 1, 10, start=T0)
    with dg.instance_for_test() as instance:
        tick = evaluate(retrain_after_new_messages_sensor, instance, database_url, None)
    assert len(tick.run_requests) == 1  # nothing trained yet: every message is new


def test_new_message_count_can_use_the_watermark_index(engine):
    add_messages(engine, 1, 20, start=T0)
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(conn.execute(sa.text(
            "EXPLAIN SELECT count(*) FROM (SELECT 1 FROM telegram_messages WHERE kind <> 'service' "
            "AND (date, chat_id, message_id) > (:d, :c, :m) LIMIT 1000) n"),
            {"d": T0, "c": CHAT, "m": 5}).scalars())
    assert "ix_telegram_messages_watermark" in plan
    with engine.connect() as conn:
        assert store.count_messages_after(conn, Watermark(T0 + timedelta(seconds=4), CHAT, 5)) == 15
        assert store.count_messages_after(conn, None, limit=7) == 7
        assert store.current_watermark(conn) == Watermark(T0 + timedelta(seconds=19), CHAT, 20)


def test_retrain_sensor_runs_on_the_six_hour_cadence_below_the_threshold_but_never_when_nothing_is_new(
        engine, database_url, monkeypatch):
    for var in ("TELEGRAM_INTEL_RETRAIN_MIN_NEW_MESSAGES", "TELEGRAM_INTEL_RETRAIN_EVERY_HOURS",
                "TELEGRAM_INTEL_RETRAIN_CADENCE_MIN_NEW_MESSAGES", "TELEGRAM_INTEL_RETRAIN_MIN_INTERVAL_MINUTES"):
        monkeypatch.delenv(var, raising=False)
    trained = add_messages(engine, 1, 50, start=T0)
    record_trained(engine, trained)
    with engine.connect() as conn:
        trained_at = store.last_trained(conn)[1]
    clock = Clock(trained_at + timedelta(hours=7))
    sensor = build_retrain_sensor(clock=clock)
    with dg.instance_for_test() as instance:
        # 7 h after the last training, but nothing new: no run
        idle = evaluate(sensor, instance, database_url, None)
        assert idle.run_requests == [] and idle.cursor is None
        assert "0 new messages" in idle.skip_message

        # 3 new messages, 5 h after the training: below the threshold and before the cadence
        newest = add_messages(engine, 51, 3, start=T0 + timedelta(hours=1))
        clock.now = trained_at + timedelta(hours=5)
        early = evaluate(sensor, instance, database_url, None)
        assert early.run_requests == [] and "cadence" in early.skip_message

        # 6 h after: the cadence retrains on them, keyed by the same watermark a threshold run would use
        clock.now = trained_at + timedelta(hours=6)
        due = evaluate(sensor, instance, database_url, None)
        (request,) = due.run_requests
        assert request.run_key == f"retrain-{newest.key}"
        assert request.tags["telegram_intel/retrain_reason"] == "cadence"
        assert request.tags["telegram_intel/new_messages"] == "3"

        # the next tick has nothing new since the requested watermark: nothing, however much time passes
        clock.now += timedelta(hours=12)
        after = evaluate(sensor, instance, database_url, due.cursor)
        assert after.run_requests == [] and after.cursor == due.cursor


def test_retrain_cadence_minimum_and_switch_come_from_the_environment(engine, database_url, monkeypatch):
    monkeypatch.setenv("TELEGRAM_INTEL_RETRAIN_CADENCE_MIN_NEW_MESSAGES", "5")
    add_messages(engine, 1, 4, start=T0)  # never trained: the cadence is due, but 4 < 5
    with dg.instance_for_test() as instance:
        assert evaluate(retrain_after_new_messages_sensor, instance, database_url, None).run_requests == []
        add_messages(engine, 10, 1, start=T0 + timedelta(minutes=1))
        assert len(evaluate(retrain_after_new_messages_sensor, instance, database_url, None).run_requests) == 1
        monkeypatch.setenv("TELEGRAM_INTEL_RETRAIN_EVERY_HOURS", "0")  # cadence off: only the 1000 threshold
        assert evaluate(retrain_after_new_messages_sensor, instance, database_url, None).run_requests == []
