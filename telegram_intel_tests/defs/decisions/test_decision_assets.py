"""decision_log / action_outcomes / no_action_ran_twice / retry_failed_actions: real Dagster runs on the real
PostgreSQL, with decisions made by the real engine against the WooCommerce contract fake."""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg
import sqlalchemy as sa

from telegram_intel.defs.decisions.assets import action_outcomes, decision_log
from telegram_intel.defs.decisions.jobs import retry_failed_actions
from telegram_intel.defs.decisions.resources import DecisionsResource
from telegram_intel.lib.decisions import MessagePart, assemble
from telegram_intel.pipeline.decisions.engine import DecisionEngine
from telegram_intel_tests.support import dagster
from telegram_intel_tests.support.decisions import WC_KEY, WC_SECRET, WP_APP_PASSWORD, WP_USER, Album

CHAT = 555


def today() -> str:
    return datetime.now(timezone.utc).date().isoformat()


def materialize(database_url):
    return dg.materialize([decision_log, action_outcomes], partition_key=today(),
                          resources=dagster.resources(database_url))


def test_assets_report_the_days_decisions_and_catch_an_action_that_ran_twice(engine, database_url,
                                                                             decision_settings, woocommerce_server):
    decisions = DecisionEngine(engine, decision_settings())
    album = Album(CHAT, "9001", "Oak chair for sale 90 USD")
    assert decisions.submit(assemble(album.parts()), album.contents()).kind == "done"
    assert decisions.submit(assemble([MessagePart(CHAT, 1, 7, "Order: 3 x mugs, 45 USD")])).kind == "done"
    assert decisions.submit(assemble([MessagePart(CHAT, 2, 7, "hmm")])).kind == "followup"
    woocommerce_server.fail("/wp-json/wc/v3/products", 500, times=2)
    failing = Album(CHAT, "9002", "Lamp for sale 20 USD", first_id=600)
    assert decisions.submit(assemble(failing.parts()), failing.contents()).kind == "failed"

    result = materialize(database_url)
    assert result.success
    log = dagster.metadata(result, "decision_log")
    assert log["decisions"] == 4 and log["followups"] == 1 and log["offline_decisions"] == 4
    assert log["decisions_per_action"] == {"woocommerce_draft_product": 2, "spreadsheet_row": 1, "ask_followup": 1}
    assert sum(log["confidence_histogram"].values()) == 4
    assert log["confidence_histogram_plot"].startswith("![decision confidence](data:image/png;base64,")
    assert log["cost_usd"] == 0.0
    outcomes = dagster.metadata(result, "action_outcomes")
    assert (outcomes["outcomes"], outcomes["succeeded"], outcomes["failed"]) == (3, 2, 1)
    assert outcomes["failure_rate"] == round(1 / 3, 4) and outcomes["retried"] == 1
    assert "HTTP 500" in outcomes["failed_actions"]
    assert dagster.check_results(result) == {"no_action_ran_twice": True}

    # The same message decided under a second key (e.g. once by the bot, once through the listener) and acted on
    # twice: the unique constraints cannot see it; the check does.
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO decisions (idempotency_key, chat_id, message_ids, source, status, mode, unit, action) "
            "SELECT 'listener:' || idempotency_key, chat_id, message_ids, 'listener', 'done', mode, unit, action "
            "FROM decisions WHERE media_group_id = '9001'"))
        conn.execute(sa.text(
            "INSERT INTO decision_outcomes (decision_id, action, status, attempts, payload, result) "
            "SELECT d.id, o.action, 'succeeded', 1, o.payload, jsonb_build_object('product_id', 99999) "
            "FROM decisions d, decision_outcomes o JOIN decisions od ON od.id = o.decision_id "
            "WHERE d.idempotency_key LIKE 'listener:%' AND od.media_group_id = '9001'"))
    result = materialize(database_url)
    [check] = result.get_asset_check_evaluations()
    assert not check.passed and check.metadata["same_unit_twice"].value == 1


def test_retry_job_runs_failed_actions_again(engine, database_url, decision_settings, woocommerce_server, tmp_path):
    decisions = DecisionEngine(engine, decision_settings())
    woocommerce_server.fail("/wp-json/wc/v3/products", 503, times=2)
    album = Album(CHAT, "9100", "Desk for sale 150 USD")
    assert decisions.submit(assemble(album.parts()), album.contents()).kind == "failed"
    assert woocommerce_server.products == []

    resource = DecisionsResource(woocommerce_url=woocommerce_server.url, woocommerce_consumer_key=WC_KEY,
                                 woocommerce_consumer_secret=WC_SECRET, wordpress_user=WP_USER,
                                 wordpress_app_password=WP_APP_PASSWORD, xlsx_path=str(tmp_path / "o.xlsx"))
    run = retry_failed_actions.execute_in_process(resources=dagster.resources(database_url, decisions=resource))
    assert run.success
    assert run.output_for_node("retry_failed_actions_op") == {"retried": 1, "succeeded": 1, "failed_again": 0,
                                                              "skipped": 0}
    assert len(woocommerce_server.products) == 1 and woocommerce_server.violations == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM decisions")).scalar_one() == "done"
