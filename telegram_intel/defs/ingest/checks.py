"""Blocking Great Expectations checks on the ingested tables."""


import json

import dagster as dg

from telegram_intel.defs.ingest.assets import CHATS, MESSAGES, USERS
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.pipeline.quality import (
    chat_expectations,
    message_expectations,
    user_expectations,
    validate_query,
)


def _result(telegram: TelegramIntelResource, query: str, expectations: list) -> dg.AssetCheckResult:
    url = telegram.engine.url.render_as_string(hide_password=False)
    outcomes = validate_query(url, query, expectations)
    failed = [o for o in outcomes if not o.success]
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "expectations": len(outcomes),
            "failed": ", ".join(o.expectation for o in failed) or "none",
            **{
                o.expectation: dg.MetadataValue.json(
                    json.loads(json.dumps(
                        {k: v for k, v in o.result.items()
                         if k in ("element_count", "unexpected_count", "partial_unexpected_list")},
                        default=str,
                    ))
                )
                for o in failed
            },
        },
    )


@dg.asset_check(asset=MESSAGES, blocking=True, description="Keys unique and non-null, dates between Aug 2013 and tomorrow.")
def telegram_messages_valid(telegram: TelegramIntelResource) -> dg.AssetCheckResult:
    return _result(telegram, "SELECT chat_id, message_id, date, kind FROM telegram_messages", message_expectations())


@dg.asset_check(asset=USERS, blocking=True, description="User ids unique and non-null.")
def telegram_users_valid(telegram: TelegramIntelResource) -> dg.AssetCheckResult:
    return _result(telegram, "SELECT user_id FROM telegram_users", user_expectations())


@dg.asset_check(asset=CHATS, blocking=True, description="Chat ids unique and non-null; known chat types.")
def telegram_chats_valid(telegram: TelegramIntelResource) -> dg.AssetCheckResult:
    return _result(telegram, "SELECT chat_id, type FROM telegram_chats", chat_expectations())
