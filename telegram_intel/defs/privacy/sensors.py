"""``erased_people_run_records_sensor``: after ``telegram-intel people forget`` (or the web UI's Forget), remove the
erased person's id from Dagster's run records, as far as Dagster allows (see ``run_records.py``)."""

import dagster as dg

from telegram_intel.defs.corpus.resources import CorpusResource
from telegram_intel.defs.privacy.run_records import delete_runs_mentioning, needle_pattern
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.lib.pseudonyms import Pseudonymizer
from telegram_intel.pipeline import privacy
from telegram_intel.pipeline.corpus import PseudonymSecretError


def _pseudonym(corpus: CorpusResource, telegram: TelegramIntelResource, user_id: int) -> list[str]:
    try:
        secret, _ = corpus.secret(telegram.settings())
    except PseudonymSecretError:
        return []  # no key configured: the corpus has no pseudonyms made with one either
    return [Pseudonymizer(secret, {}).pseudonym(user_id)]


@dg.sensor(
    name="erased_people_run_records_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Deletes the finished Dagster runs whose tags, config, metadata or logs name a person erased with "
                "`people forget` (their id or pseudonym), then marks the erasure done in erased_users.",
)
def erased_people_run_records_sensor(context: dg.SensorEvaluationContext, telegram: TelegramIntelResource,
                                     corpus: CorpusResource):
    pending = privacy.erased_awaiting_run_record_scrub(telegram.engine)
    if not pending:
        return dg.SkipReason("no erased person awaits a scrub of the run records")
    patterns = [needle_pattern(uid, _pseudonym(corpus, telegram, uid)) for uid in pending]
    deleted, unfinished = delete_runs_mentioning(context.instance, patterns)
    if unfinished:
        return dg.SkipReason(f"deleted {len(deleted)} runs naming {len(pending)} erased people; {unfinished} runs "
                             "still in progress, checked again at the next evaluation")
    privacy.mark_run_records_scrubbed(telegram.engine, pending)
    return dg.SkipReason(f"deleted {len(deleted)} runs naming {len(pending)} erased people")
