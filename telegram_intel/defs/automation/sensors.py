"""``retrain_after_new_messages_sensor``: retrain the persona every 6 hours OR once 1000+ new messages arrived
(seed 000's loop), never when nothing is new.

The cursor is the watermark of the last requested training (``{"watermark": key, "requested_at": iso}``); the
newest adapter in ``persona_adapters`` counts as well, so a training run started by hand moves the baseline too.
Each evaluation counts non-service messages newer than that watermark with one index-only range scan of
``ix_telegram_messages_watermark``, stopping at the threshold. At ``threshold`` new messages (1000 by default) and
at least ``min_interval`` after the previous training (1 h by default) it requests ``persona_training_job`` with
``run_key=f"retrain-{watermark}"`` (the current newest message) and passes that watermark to ``sft_dataset``, so
the run trains on exactly the messages counted; the cursor moves to it. The same watermark always gives the same
run key, so a repeated evaluation never launches a second run.

Cadence: below the threshold, a training is also requested when at least ``cadence`` (6 h by default,
``$TELEGRAM_INTEL_RETRAIN_EVERY_HOURS``; 0 turns it off) passed since the last training and at least
``cadence_min`` new messages exist (1 by default, ``$TELEGRAM_INTEL_RETRAIN_CADENCE_MIN_NEW_MESSAGES``). Both
paths key the run by the same watermark, so a threshold retrain and a cadence retrain never train one watermark
twice.

Off switch: with ``$TELEGRAM_INTEL_RETRAIN_ENABLED`` false (read at each evaluation; default true) every evaluation
skips and says how to train by hand. ``telegram-intel demo`` sets it false for the processes it starts: a first
training on a CPU takes many minutes, so the demo leaves it to the user (README, "What the demo does").

Privacy: when the newest adapter is stale (``persona_adapters.stale_at``: trained on words of someone who opted out
or was erased, its files deleted by ``pipeline/privacy.py``), a retrain is requested at once with
``run_key=f"retrain-stale-{adapter_id}"``, regardless of the count and the minimum interval.
"""

import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import dagster as dg

from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.training.jobs import persona_training_job
from telegram_intel.lib.sft import Watermark
from telegram_intel.pipeline import training as store

ENABLED_ENV = "TELEGRAM_INTEL_RETRAIN_ENABLED"
THRESHOLD_ENV = "TELEGRAM_INTEL_RETRAIN_MIN_NEW_MESSAGES"
MIN_INTERVAL_ENV = "TELEGRAM_INTEL_RETRAIN_MIN_INTERVAL_MINUTES"
DEFAULT_THRESHOLD = 1000
DEFAULT_MIN_INTERVAL = timedelta(hours=1)
CADENCE_ENV = "TELEGRAM_INTEL_RETRAIN_EVERY_HOURS"
CADENCE_MIN_ENV = "TELEGRAM_INTEL_RETRAIN_CADENCE_MIN_NEW_MESSAGES"
DEFAULT_CADENCE_HOURS = 6
DEFAULT_CADENCE_MIN = 1


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be >= 0")
    return value


def _env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {raw!r}")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def decide_retrain(conn, cursor: str | None, *, threshold: int, min_interval: timedelta, now: datetime,
                   cadence: timedelta | None = None, cadence_min: int = DEFAULT_CADENCE_MIN):
    """(RunRequest or SkipReason, new cursor or None): the sensor's decision, separated for the benchmark/tests.

    ``cadence``: also retrain below ``threshold`` once this long passed since the last training (or when there was
    none) and at least ``cadence_min`` messages are new; None turns the cadence off."""
    stale = store.stale_adapter_awaiting_retrain(conn)
    target = store.current_watermark(conn) if stale is not None else None
    if stale is not None and target is not None:
        # Trained on words of someone who opted out or was erased (its files are gone): replace it now, whatever
        # the count or the interval; once per stale adapter.
        return dg.RunRequest(
            run_key=f"retrain-stale-{stale['id']}",
            run_config={"ops": {"sft_dataset": {"config": {"until": target.key}}}},
            tags={"telegram_intel/watermark": target.key, "telegram_intel/retrain_reason": "stale_adapter",
                  "telegram_intel/stale_adapter": str(stale["id"])},
        ), json.dumps({"watermark": target.key, "requested_at": now.isoformat()})
    state = json.loads(cursor) if cursor else {}
    requested_wm = Watermark.parse(state["watermark"]) if state.get("watermark") else None
    requested_at = datetime.fromisoformat(state["requested_at"]) if state.get("requested_at") else None
    trained = store.last_trained(conn)
    baseline = max([w for w in (requested_wm, trained[0] if trained else None) if w is not None], default=None)
    since = baseline.key if baseline else "the beginning"
    new = store.count_messages_after(conn, baseline, limit=threshold)
    last = max([t for t in (requested_at, trained[1] if trained else None) if t is not None], default=None)
    reason = "threshold"
    if new < threshold:
        due = cadence is not None and new >= max(1, cadence_min) and (last is None or now - last >= cadence)
        if not due:
            when = f"; on the {cadence} cadence at {max(1, cadence_min)}" if cadence is not None else ""
            return dg.SkipReason(f"{new} new messages since {since}; retraining at {threshold}{when}"), None
        reason = "cadence"
    elif last is not None and now - last < min_interval:
        return dg.SkipReason(
            f"≥ {threshold} new messages since {since}, but the last training was at {last.isoformat()}; "
            f"the minimum interval of {min_interval} allows the next one at {(last + min_interval).isoformat()}"
        ), None
    target = store.current_watermark(conn)
    request = dg.RunRequest(
        run_key=f"retrain-{target.key}",
        run_config={"ops": {"sft_dataset": {"config": {"until": target.key}}}},
        tags={"telegram_intel/watermark": target.key, "telegram_intel/baseline": since,
              "telegram_intel/new_messages": f">={new}" if reason == "threshold" else str(new),
              "telegram_intel/retrain_reason": reason},
    )
    return request, json.dumps({"watermark": target.key, "requested_at": now.isoformat()})


def build_retrain_sensor(
    name: str = "retrain_after_new_messages_sensor",
    *,
    threshold: int | None = None,
    min_interval: timedelta | None = None,
    cadence: timedelta | None | bool = True,
    cadence_min: int | None = None,
    job=persona_training_job,
    minimum_interval_seconds: int = 300,
    clock: Callable[[], datetime] = _utcnow,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """The retrain sensor; ``threshold``/``min_interval``/``cadence_min`` left None (and ``cadence`` left True) are
    read at each evaluation from ``$TELEGRAM_INTEL_RETRAIN_MIN_NEW_MESSAGES`` /
    ``$TELEGRAM_INTEL_RETRAIN_MIN_INTERVAL_MINUTES`` / ``$TELEGRAM_INTEL_RETRAIN_CADENCE_MIN_NEW_MESSAGES`` /
    ``$TELEGRAM_INTEL_RETRAIN_EVERY_HOURS`` (defaults 1000, 60 minutes, 1 and 6 hours); ``cadence=None`` turns the
    cadence off."""

    @dg.sensor(
        name=name,
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=f"Requests {job.name} once enough new messages exist since the last trained watermark "
                    f"(${THRESHOLD_ENV}, default {DEFAULT_THRESHOLD}), at most once per minimum interval "
                    f"(${MIN_INTERVAL_ENV}, default {int(DEFAULT_MIN_INTERVAL.total_seconds() // 60)} min); and "
                    f"every {DEFAULT_CADENCE_HOURS} h (${CADENCE_ENV}) when anything is new (${CADENCE_MIN_ENV}). "
                    f"Off while ${ENABLED_ENV} is false (as in `telegram-intel demo`).",
    )
    def _sensor(context: dg.SensorEvaluationContext, telegram: TelegramIntelResource):
        if not _env_flag(ENABLED_ENV, True):
            return dg.SkipReason(
                f"automatic retraining is off (${ENABLED_ENV}=false; `telegram-intel demo` sets it): train by hand "
                f"with {job.name} (Jobs → {job.name} → Materialize all), or set ${ENABLED_ENV}=true")
        limit = threshold if threshold is not None else _env_int(THRESHOLD_ENV, DEFAULT_THRESHOLD)
        interval = min_interval if min_interval is not None else timedelta(
            minutes=_env_int(MIN_INTERVAL_ENV, int(DEFAULT_MIN_INTERVAL.total_seconds() // 60)))
        every = cadence
        if every is True:
            hours = _env_int(CADENCE_ENV, DEFAULT_CADENCE_HOURS)
            every = timedelta(hours=hours) if hours else None
        floor = cadence_min if cadence_min is not None else _env_int(CADENCE_MIN_ENV, DEFAULT_CADENCE_MIN)
        with telegram.connect() as conn:
            decision, cursor = decide_retrain(conn, context.cursor, threshold=max(1, limit), min_interval=interval,
                                              now=clock(), cadence=every or None, cadence_min=floor)
        if cursor is not None:
            context.update_cursor(cursor)
        return decision

    return _sensor


retrain_after_new_messages_sensor = build_retrain_sensor()


#: Evaluates the enrichment assets' automation conditions (Dagster's default sensor for them starts stopped; this
#: one runs from the start, so enrichment follows every import and sync without anyone switching it on).
enrichment_automation_sensor = dg.AutomationConditionSensorDefinition(
    "enrichment_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Requests the enrichment assets whose AutomationCondition is true (new ingest or upstream data).",
)
