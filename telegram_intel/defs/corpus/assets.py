"""``clean_messages``: the PII-masked, pseudonymized corpus every enrichment asset reads."""


import dagster as dg
from pydantic import Field

from telegram_intel.defs.corpus.cleaner import CleanOptions, PseudonymSecretError, clean_range
from telegram_intel.defs.corpus.resources import CorpusResource
from telegram_intel.defs.partitions import MESSAGES_DEP, daily_message_partitions, partition_bounds
from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.lib.cleaning import DEFAULT_KEEP_DOMAINS, DROP_REASONS
from telegram_intel.lib.pii import PII_TYPES
from telegram_intel.defs.resources import TelegramIntelResource


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

    def options(self) -> CleanOptions:
        return CleanOptions(
            drop_service=self.drop_service, drop_empty=self.drop_empty, drop_media_only=self.drop_media_only,
            drop_emoji_only=self.drop_emoji_only, mask_pii=self.mask_pii, pii_types=tuple(self.pii_types),
            keep_domains=tuple(self.keep_domains), pseudonymize=self.pseudonymize,
            pseudonymize_owner=self.pseudonymize_owner,
        )


@dg.asset(
    partitions_def=daily_message_partitions,
    # Transcripts become the text of voice messages (same daily partitions).
    deps=[MESSAGES_DEP, dg.AssetDep("voice_transcripts")],
    group_name="corpus",
    kinds={"postgres"},
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=31),
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
    context.log.info(
        f"{stats.rows_in:,} messages in, {stats.rows_out:,} kept ({stats.inserted:,} new, {stats.updated:,} "
        f"changed), {stats.removed:,} removed, {stats.purged_ignored:,} rows of opted-out users purged "
        f"in {stats.seconds:.1f}s"
    )
    reasons = [*DROP_REASONS, "deleted", "ignored_user"]
    dropped = {r: stats.dropped.get(r, 0) for r in reasons}
    languages = dict(stats.languages.most_common())
    return dg.MaterializeResult(
        metadata={
            "rows_in": stats.rows_in,
            "rows_out": stats.rows_out,
            "rows_inserted": stats.inserted,
            "rows_updated": stats.updated,
            "rows_unchanged": stats.unchanged,
            "rows_removed": stats.removed,
            "rows_purged_ignored_users": stats.purged_ignored,
            "derived_rows_purged": dg.MetadataValue.json(stats.derived_purged),
            "dropped": dg.MetadataValue.json(dropped),
            "dropped_chart": dg.MetadataValue.md(
                bar_chart_markdown(reasons, [dropped[r] for r in reasons], title="Messages dropped, by reason")),
            "pii_masked": dg.MetadataValue.json({t: stats.pii.get(t, 0) for t in PII_TYPES}),
            "pii_masked_total": sum(stats.pii.values()),
            "pseudonyms_replaced": stats.pseudonyms_replaced,
            "pseudonym_key": source,
            "languages": dg.MetadataValue.json(languages),
            "transcripts": stats.transcripts,
            "cleaner_version": stats.cleaner_version,
            "window": f"[{lo.isoformat()}, {hi.isoformat()})",
            "duration_s": round(stats.seconds, 3),
        }
    )
