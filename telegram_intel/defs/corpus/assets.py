"""``clean_messages``: the PII-masked, pseudonymized corpus every enrichment asset reads."""


import dagster as dg
from pydantic import Field

from telegram_intel.defs.corpus.resources import CorpusResource
from telegram_intel.defs.metadata import materialize_result
from telegram_intel.defs.partitions import (
    DAILY_ENRICHMENT,
    MESSAGES_DEP,
    daily_message_partitions,
    partition_bounds,
)
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.lib.cleaning import (
    DEFAULT_KEEP_DOMAINS,
    CleaningConfig,
)
from telegram_intel.lib.pii import PII_TYPES
from telegram_intel.pipeline.corpus import (
    PseudonymSecretError,
    clean_range,
    clean_report,
)


class CleanMessagesConfig(dg.Config):
    """Filters and masking of ``clean_messages``. Changing them and re-materializing a date range rewrites that
    range: rows that a stricter filter now drops are removed (with their embeddings and other derived rows)."""

    drop_service: bool = Field(default=True, description="Drop service messages (joins, pins, calls).")
    drop_empty: bool = Field(default=True, description="Drop messages without text or media.")
    drop_media_only: bool = Field(
        default=True, description="Drop media without a caption (kept ones get a [MEDIA:type] text).")
    drop_emoji_only: bool = Field(default=True, description="Drop messages made only of emoji.")
    mask_pii: bool = Field(default=True, description="Replace phones, emails, URLs, cards and IBANs with [TYPE].")
    pii_types: list[str] = Field(default=list(PII_TYPES), description=f"PII types to mask, of {list(PII_TYPES)}.")
    keep_domains: list[str] = Field(
        default=list(DEFAULT_KEEP_DOMAINS),
        description="URLs on these domains (and their subdomains) are kept: public references identify nobody.",
    )
    pseudonymize: bool = Field(
        default=True, description="Replace @mentions and full names of people with user_XXXXXXXX pseudonyms.")
    pseudonymize_owner: bool = Field(default=False, description="Pseudonymize the account owner too.")

    def options(self) -> CleaningConfig:
        return CleaningConfig(**self.model_dump())


@dg.asset(
    partitions_def=daily_message_partitions,
    # Transcripts become the text of voice messages (same daily partitions).
    deps=[MESSAGES_DEP, dg.AssetDep("voice_transcripts")],
    group_name="corpus",
    kinds={"postgres"},
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=31),
    automation_condition=DAILY_ENRICHMENT,
    tags={"telegram_intel/pii": "masked"},
)
def clean_messages(
    context: dg.AssetExecutionContext,
    config: CleanMessagesConfig,
    telegram: TelegramIntelResource,
    corpus: CorpusResource,
) -> dg.MaterializeResult:
    """PII-masked, pseudonymized text of every usable message: `clean_messages`, one row per message, daily
    partitions by message date (UTC).

    Normalizes text; drops service / empty / media-only / emoji-only messages (configurable); masks phones,
    emails, URLs (keep-list of domains), cards (Luhn) and IBANs; replaces @mentions and full names with stable
    keyed pseudonyms. Messages of users marked `is_ignored` never enter, and are purged (with everything derived
    from them) whenever this asset runs. Re-running a partition is idempotent; edited messages are rewritten."""
    lo, hi = partition_bounds(context)
    options = config.options()
    secret, source = None, "off"
    if options.pseudonymize:
        try:
            secret, source = corpus.secret(telegram.settings())
        except PseudonymSecretError as exc:
            raise dg.Failure(str(exc)) from exc
    context.log.info(f"cleaning messages dated [{lo:%Y-%m-%d}, {hi:%Y-%m-%d}) (pseudonym key from {source})")
    stats = clean_range(telegram.engine, lo, hi, options, secret=secret, log=context.log.info)
    context.log.info(f"{stats.rows_in:,} messages in, {stats.rows_out:,} kept, {stats.removed:,} removed "
                     f"in {stats.seconds:.1f}s")
    return materialize_result(clean_report(stats, lo, hi), pseudonym_key=source)
