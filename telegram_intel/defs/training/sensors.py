"""``preference_training_sensor``: train the persona on the bot's 👍/👎 feedback once enough is new.

The cursor is the newest feedback id of the last requested run (``{"feedback_id": n, "requested_at": iso}``); the
newest preference adapter's ``metrics.feedback_watermark`` counts too, so a run started by hand moves the baseline.
Each evaluation counts ``persona_feedback`` rows above it (a primary-key range scan, stopping at the threshold);
at ``threshold`` new rows (``$TELEGRAM_INTEL_PREFERENCE_MIN_NEW_FEEDBACK``, 50 by default) it requests
``preference_training_job`` with ``run_key=f"preference-{newest id}"`` and passes that id to
``preference_dataset`` (``until_feedback_id``), so the run trains on exactly the feedback counted. It waits while
no SFT adapter exists (preference training refines one) and, like the retrain sensor, skips every evaluation while
``$TELEGRAM_INTEL_RETRAIN_ENABLED`` is false.

A new SFT adapter (the retrain sensor's) replaces the preference-trained one as the newest; when that SFT adapter
has no preference adapter yet and feedback exists, a run is requested at once
(``run_key=f"preference-{feedback id}-on-{adapter id}"``), so the feedback is never lost to a retrain.
"""

import json
from datetime import datetime, timezone

import dagster as dg

from telegram_intel.defs.automation.sensors import ENABLED_ENV, _env_flag, _env_int
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.training.jobs import preference_training_job
from telegram_intel.pipeline import preferences as store

THRESHOLD_ENV = "TELEGRAM_INTEL_PREFERENCE_MIN_NEW_FEEDBACK"
DEFAULT_THRESHOLD = 50


def decide_preference_training(conn, cursor: str | None, *, threshold: int, now: datetime):
    """(RunRequest or SkipReason, new cursor or None): the sensor's decision, separated for the tests."""
    parent = store.latest_sft_adapter(conn)
    if parent is None:
        return dg.SkipReason("no SFT adapter yet: preference training refines lora_adapter's output "
                             "(persona_training_job)"), None
    newest = store.newest_feedback_id(conn)
    if newest is None:
        return dg.SkipReason("no feedback in persona_feedback yet"), None
    state = json.loads(cursor) if cursor else {}
    trained = store.last_trained_feedback_id(conn)
    baseline = max([v for v in (state.get("feedback_id"), trained) if v is not None], default=None)
    run_config = {"ops": {"preference_dataset": {"config": {"until_feedback_id": newest}},
                          "dpo_adapter": {"config": {"parent_adapter_id": parent["id"]}}}}
    new_cursor = json.dumps({"feedback_id": newest, "requested_at": now.isoformat()})
    if baseline is not None and store.preference_adapter_of(conn, parent["id"]) is None \
            and state.get("parent_adapter_id") != parent["id"]:
        # a retrain replaced the preference-trained adapter: apply the feedback so far to the new one
        return dg.RunRequest(
            run_key=f"preference-{newest}-on-{parent['id']}", run_config=run_config,
            tags={"telegram_intel/feedback_watermark": str(newest), "telegram_intel/parent_adapter": str(parent["id"]),
                  "telegram_intel/preference_reason": "new_sft_adapter"},
        ), json.dumps({**json.loads(new_cursor), "parent_adapter_id": parent["id"]})
    new = store.count_feedback_after(conn, baseline, limit=threshold)
    since = f"feedback id {baseline}" if baseline is not None else "the beginning"
    if new < threshold:
        return dg.SkipReason(f"{new} new feedback rows since {since}; preference training at {threshold}"), None
    return dg.RunRequest(
        run_key=f"preference-{newest}", run_config=run_config,
        tags={"telegram_intel/feedback_watermark": str(newest), "telegram_intel/baseline": since,
              "telegram_intel/new_feedback": f">={new}", "telegram_intel/parent_adapter": str(parent["id"]),
              "telegram_intel/preference_reason": "threshold"},
    ), json.dumps({**json.loads(new_cursor), "parent_adapter_id": parent["id"]})


@dg.sensor(
    name="preference_training_sensor",
    job=preference_training_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Requests preference_training_job (DPO/KTO on the bot's 👍/👎 feedback) once enough new feedback "
                f"exists since the last preference training (${THRESHOLD_ENV}, default {DEFAULT_THRESHOLD}), and "
                f"after a retrain when feedback exists. Off while ${ENABLED_ENV} is false.",
)
def preference_training_sensor(context: dg.SensorEvaluationContext, telegram: TelegramIntelResource):
    if not _env_flag(ENABLED_ENV, True):
        return dg.SkipReason(f"automatic training is off (${ENABLED_ENV}=false): train by hand with "
                             f"{preference_training_job.name}, or set ${ENABLED_ENV}=true")
    threshold = max(1, _env_int(THRESHOLD_ENV, DEFAULT_THRESHOLD))
    with telegram.connect() as conn:
        try:
            decision, cursor = decide_preference_training(conn, context.cursor, threshold=threshold,
                                                          now=datetime.now(timezone.utc))
        except store.PreferenceError as exc:
            return dg.SkipReason(str(exc))
    if cursor is not None:
        context.update_cursor(cursor)
    return decision
