"""The decision engine on the real PostgreSQL, against contract fakes of WooCommerce, Microsoft Graph and OpenAI."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from telegram_intel.db.llm_calls import SqlCallRecorder
from telegram_intel.lib.decisions import IncomingUnit, MediaItem, MessagePart, assemble, make_sku
from telegram_intel.llm.client import LLMClient
from telegram_intel.llm.retry import RetryPolicy
from telegram_intel.pipeline.decisions.engine import DecisionEngine
from telegram_intel.pipeline.decisions.providers import Provider, ProviderChain
from telegram_intel_tests.support.decisions import Album, FakeGraph, graph_settings
from telegram_intel_tests.support.fake_openai import FakeOpenAIServer, error, ok

CHAT = 777


def rows(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).mappings().all()


def text_unit(text: str, message_id: int = 1, chat_id: int = CHAT, sender_id: int | None = 42) -> IncomingUnit:
    return assemble([MessagePart(chat_id=chat_id, message_id=message_id, sender_id=sender_id, text=text)])


def llm_client(server: FakeOpenAIServer, engine=None, model: str = "route-model") -> LLMClient:
    return LLMClient(model=model, base_url=server.url, api_key="sk-test-key", timeout_s=5,
                     retry=RetryPolicy(max_attempts=1), recorder=SqlCallRecorder(engine) if engine else None,
                     sleep=lambda s: None)


@pytest.fixture
def openai_servers():
    servers = [FakeOpenAIServer().start(), FakeOpenAIServer().start()]
    yield servers
    for s in servers:
        s.stop()


def test_album_of_three_photos_becomes_one_draft_product(engine, decision_settings, woocommerce_server):
    decisions = DecisionEngine(engine, decision_settings())
    album = Album(CHAT, "13579", "Red summer dress, size M\nPrice: 1 200,50 ₽")
    for part in album.parts():  # three updates
        assert decisions.record_album_part(part)
    assert not decisions.record_album_part(album.parts()[1])  # a re-delivered part is kept once
    unit = assemble(decisions.album_parts(CHAT, "13579"))
    assert unit.message_ids == (500, 501, 502) and len(unit.media) == 3

    outcome = decisions.submit(unit, album.contents())
    assert outcome.kind == "done", outcome.message
    [product] = woocommerce_server.products
    assert product["status"] == "draft" and product["type"] == "simple"
    assert product["regular_price"] == "1200.50"
    assert product["sku"] == make_sku(f"{CHAT}:album:13579", "Red summer dress, size M")
    assert product["name"] == "Red summer dress, size M"
    assert len(product["images"]) == 3 and len(woocommerce_server.media) == 3
    assert [c["name"] for c in woocommerce_server.categories if c["id"] == product["categories"][0]["id"]] \
        == ["Clothing"]
    assert woocommerce_server.violations == []
    assert decisions.album_parts(CHAT, "13579") == []  # parts are dropped once decided

    # the same album again (a re-delivered update, a restart that replays the debounce): no second product
    again = decisions.submit(assemble(album.parts()), album.contents())
    assert again.kind == "duplicate" and again.decision_id == outcome.decision_id
    assert len(woocommerce_server.products) == 1
    [audit] = rows(engine, "SELECT * FROM decisions")
    assert audit["status"] == "done" and audit["action"] == "woocommerce_draft_product"
    assert audit["method"] == "offline:rules@1" and audit["message_ids"] == [500, 501, 502]
    assert "Red summer" not in json.dumps(audit["unit"])  # the audit row describes, it does not quote
    [out] = rows(engine, "SELECT * FROM decision_outcomes")
    assert out["status"] == "succeeded" and out["attempts"] == 1 and out["result"]["product_id"] == product["id"]


def test_text_order_becomes_one_row_in_the_local_workbook(engine, decision_settings, tmp_path):
    decisions = DecisionEngine(engine, decision_settings())
    outcome = decisions.submit(text_unit("Order: 3 x blue mugs for Anna, total 45 USD", message_id=10))
    assert outcome.kind == "done", outcome.message
    assert decisions.submit(text_unit("Order: 3 x blue mugs for Anna, total 45 USD", message_id=10)).kind \
        == "duplicate"
    sheet = load_workbook(tmp_path / "orders.xlsx")["orders"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["date", "customer", "item", "quantity", "unit_price", "total", "note", "ref"]
    assert len(values) == 2
    row = dict(zip(values[0], values[1]))
    assert (row["customer"], row["item"], row["quantity"], row["total"], row["ref"]) == (
        "Anna", "blue mugs for Anna, total", 3, 45, f"{CHAT}:msg:10")
    assert row["unit_price"] == 15


def test_row_written_before_a_crash_is_found_not_duplicated(engine, decision_settings, tmp_path):
    from telegram_intel.pipeline.decisions import xlsx

    settings = decision_settings()
    columns = list(settings.row_columns)
    first = xlsx.append_row(tmp_path / "orders.xlsx", columns, ["d", "", "mugs", 3, "", 45, "", f"{CHAT}:msg:11"])
    again = xlsx.append_row(tmp_path / "orders.xlsx", columns, ["d", "", "mugs", 3, "", 45, "", f"{CHAT}:msg:11"])
    assert (first["reused"], again["reused"], again["row"]) == (False, True, first["row"])


def test_ambiguous_message_gets_a_question_and_the_choice_acts(engine, decision_settings, tmp_path):
    decisions = DecisionEngine(engine, decision_settings())
    outcome = decisions.submit(text_unit("blue mugs, Anna", message_id=20))
    assert outcome.kind == "followup"
    assert set(outcome.options) == {"spreadsheet_row", "woocommerce_draft_product"}
    [conv] = rows(engine, "SELECT * FROM decision_conversations")
    assert conv["decision_id"] == outcome.decision_id and conv["step"] == "awaiting_choice"

    chosen = decisions.choose(CHAT, outcome.decision_id, "spreadsheet_row")
    assert chosen.kind == "done", chosen.message
    assert decisions.choose(CHAT, outcome.decision_id, "spreadsheet_row").kind == "stale"  # a second tap
    assert rows(engine, "SELECT * FROM decision_conversations") == []
    assert load_workbook(tmp_path / "orders.xlsx")["orders"].max_row == 2
    [audit] = rows(engine, "SELECT status, action FROM decisions")
    assert dict(audit) == {"status": "done", "action": "spreadsheet_row"}


def test_text_answer_to_a_question_is_decided_again(engine, decision_settings):
    decisions = DecisionEngine(engine, decision_settings())
    first = decisions.submit(text_unit("blue mugs", message_id=21))
    assert first.kind == "followup"
    assert decisions.answer(CHAT + 1, "order 3 pcs") is None  # another chat has nothing open
    second = decisions.answer(CHAT, "order 3 pcs for 45 USD")
    assert second.kind == "done" and second.action == "spreadsheet_row" and second.decision_id == first.decision_id


def test_approve_mode_waits_for_the_button(engine, decision_settings, woocommerce_server):
    decisions = DecisionEngine(engine, decision_settings(mode="approve"))
    album = Album(CHAT, "24680", "Sneakers for sale, 80 USD")
    outcome = decisions.submit(assemble(album.parts()), album.contents())
    assert outcome.kind == "approval" and "SKU" in outcome.message
    assert woocommerce_server.products == []
    assert decisions.approve(CHAT + 1, outcome.decision_id).kind == "stale"  # only the chat it came from
    assert decisions.approve(CHAT, outcome.decision_id).kind == "done"
    assert decisions.approve(CHAT, outcome.decision_id).kind == "stale"
    assert len(woocommerce_server.products) == 1

    other = decisions.submit(text_unit("order 2 pcs chairs 100 USD", message_id=30))
    assert other.kind == "approval"
    assert decisions.reject(CHAT, other.decision_id).kind == "rejected"
    assert rows(engine, "SELECT status FROM decision_outcomes WHERE decision_id = :d", d=other.decision_id)[0][
        "status"] == "cancelled"


def test_dry_run_plans_and_sends_nothing(engine, decision_settings, woocommerce_server):
    decisions = DecisionEngine(engine, decision_settings(mode="dry_run"))
    album = Album(CHAT, "1122", "Lamp for sale 30 €")
    outcome = decisions.submit(assemble(album.parts()), album.contents())
    assert outcome.kind == "dry_run" and "draft product" in outcome.message
    assert woocommerce_server.requests == []
    [out] = rows(engine, "SELECT status, payload FROM decision_outcomes")
    assert out["status"] == "dry_run" and out["payload"]["product"]["status"] == "draft"


def test_failed_action_is_retried_with_backoff_then_by_the_retry_job(engine, decision_settings, woocommerce_server):
    sleeps: list[float] = []
    settings = decision_settings(backoff_base_s=0.01, backoff_max_s=0.05)
    decisions = DecisionEngine(engine, settings, sleep=sleeps.append)
    woocommerce_server.fail("/wp-json/wc/v3/products", 503, times=2)  # both attempts of the first run
    album = Album(CHAT, "3344", "Chair for sale 50 USD")
    outcome = decisions.submit(assemble(album.parts()), album.contents())
    assert outcome.kind == "failed" and "HTTP 503" in outcome.message
    assert len(sleeps) == 1 and sleeps[0] > 0  # tenacity waited between the two attempts
    [out] = rows(engine, "SELECT status, attempts, error FROM decision_outcomes")
    assert (out["status"], out["attempts"]) == ("failed", 2) and "503" in out["error"]

    stats = decisions.retry_failed()
    assert stats == {"retried": 1, "succeeded": 1, "failed_again": 0, "skipped": 0}
    assert len(woocommerce_server.products) == 1
    assert decisions.retry_failed()["retried"] == 0


def test_a_lost_answer_finds_the_product_by_sku_instead_of_creating_it_twice(engine, decision_settings,
                                                                            woocommerce_server):
    decisions = DecisionEngine(engine, decision_settings())
    woocommerce_server.lose_answer("POST", "/wp-json/wc/v3/products")  # created, but the answer is lost
    album = Album(CHAT, "5566", "Table for sale 120 USD")
    outcome = decisions.submit(assemble(album.parts()), album.contents())
    assert outcome.kind == "done" and outcome.result["reused"] is True
    assert len(woocommerce_server.products) == 1 and outcome.result["product_id"] == woocommerce_server.products[0]["id"]
    assert [f"{r.method} {r.path}" for r in woocommerce_server.requests].count("GET /wp-json/wc/v3/products") == 2


def test_graph_backend_posts_the_row_with_a_bearer_token(engine, decision_settings, graph_server: FakeGraph):
    decisions = DecisionEngine(engine, decision_settings(graph=graph_settings(graph_server)))
    outcome = decisions.submit(text_unit("Заказ: 2 шт кроссовки для Иван, 5000 руб", message_id=40))
    assert outcome.kind == "done", outcome.message
    assert graph_server.violations == []
    [row] = graph_server.rows
    assert row[2:6] == ["кроссовки для Иван", 2, 2500, 5000] and row[7] == f"{CHAT}:msg:40"
    [request] = graph_server.requests
    assert request.path == "/v1.0/me/drive/items/01ABCDEF2GHIJKLMNOPQ/workbook/tables/Orders/rows"


def test_files_are_validated_by_type_size_and_content(engine, decision_settings):
    decisions = DecisionEngine(engine, decision_settings())
    exe = MessagePart(CHAT, 50, 42, "invoice", (MediaItem("document", "f", "u-exe", "application/x-msdownload",
                                                          1000, "setup.exe"),))
    refused = decisions.submit(assemble([exe]))
    assert refused.kind == "refused" and "application/x-msdownload" in refused.message
    fake = MessagePart(CHAT, 51, 42, "dress 10 USD", (MediaItem("photo", "f", "u-fake", None, 9),))
    refused = decisions.submit(assemble([fake]), {"u-fake": b"MZ\x90\x00notjpeg"})
    assert refused.kind == "refused" and "not an image" in refused.message
    big = MessagePart(CHAT, 52, 42, "", (MediaItem("video", "f", "u-big", "video/mp4", 50 * 1024 * 1024),))
    assert "limit" in decisions.submit(assemble([big])).message
    assert {r["status"] for r in rows(engine, "SELECT status FROM decisions")} == {"refused"}


def test_opted_out_sender_leaves_no_trace(engine, decision_settings):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO telegram_users (user_id, is_ignored) VALUES (99, true)"))
    decisions = DecisionEngine(engine, decision_settings())
    assert decisions.submit(text_unit("order 3 pcs mugs 45 USD", sender_id=99)).kind == "refused"
    assert rows(engine, "SELECT * FROM decisions") == []


def test_vision_decision_sends_the_images_to_the_vision_model(engine, decision_settings, woocommerce_server,
                                                              openai_servers):
    primary, _ = openai_servers
    primary.push(ok({"action": "woocommerce_draft_product", "confidence": 0.93,
                     "arguments": {"title": "Handmade ceramic vase", "seo_title": "Handmade Ceramic Vase – Blue",
                                   "description": "<p>Blue glazed vase.</p>", "price": 35, "category": "Decor"},
                     "rationale": "photos of one item with a price"}, prompt_tokens=900, completion_tokens=60))
    chain = ProviderChain([Provider("primary", llm_client(primary, engine), vision_model="vision-model")])
    decisions = DecisionEngine(engine, decision_settings(), chain=chain)
    album = Album(CHAT, "7788", "vase 35", count=2)
    outcome = decisions.submit(assemble(album.parts()), album.contents())
    assert outcome.kind == "done", outcome.message

    [request] = primary.requests
    assert request["body"]["model"] == "vision-model"
    assert request["headers"]["authorization"] == "Bearer sk-test-key"
    content = request["body"]["messages"][-1]["content"]
    assert content[0]["type"] == "text" and "vase 35" in content[0]["text"]
    images = [p["image_url"]["url"] for p in content if p["type"] == "image_url"]
    assert len(images) == 2 and all(u.startswith("data:image/jpeg;base64,/9j/") for u in images)
    assert request["body"]["response_format"]["type"] == "json_schema"

    [product] = woocommerce_server.products
    assert (product["name"], product["regular_price"]) == ("Handmade Ceramic Vase – Blue", "35.00")
    [audit] = rows(engine, "SELECT * FROM decisions")
    assert audit["method"] == "llm:primary:vision-model" and audit["prompt_tokens"] == 900
    [call] = rows(engine, "SELECT * FROM llm_calls")
    assert call["prompt_name"] == "decision_route" and call["tags"]["decision_id"] == audit["id"]


def test_fallback_endpoint_then_offline_router(engine, decision_settings, openai_servers):
    primary, fallback = openai_servers
    primary.default = error(500, "down")
    fallback.push(ok({"action": "spreadsheet_row", "confidence": 0.9,
                      "arguments": {"item": "mugs", "quantity": 3, "total": 45}, "rationale": "an order"}))
    chain = ProviderChain([Provider("primary", llm_client(primary, engine)),
                           Provider("fallback", llm_client(fallback, engine, model="fallback-model"))])
    decisions = DecisionEngine(engine, decision_settings(), chain=chain)
    outcome = decisions.submit(text_unit("3 mugs please", message_id=60))
    assert outcome.kind == "done" and outcome.action == "spreadsheet_row"
    [audit] = rows(engine, "SELECT method, providers FROM decisions")
    assert audit["method"] == "llm:fallback:fallback-model"
    assert [(a["provider"], a["status"]) for a in audit["providers"]] == [("primary", "error"), ("fallback", "ok")]

    fallback.default = ok({"action": "spreadsheet_row", "confidence": 0.9, "arguments": {"quantity": -1},
                           "rationale": "arguments break the action's schema"})
    outcome = decisions.submit(text_unit("order 2 pcs chairs 100 USD", message_id=61))
    assert outcome.kind == "done"
    audit = rows(engine, "SELECT method, providers FROM decisions WHERE message_ids = '[61]'::jsonb")[0]
    assert audit["method"] == "offline:rules@1"
    assert [a.get("error_kind") for a in audit["providers"]] == ["LLMUnavailableError", "invalid_arguments", None]
    assert {r["status"] for r in rows(engine, "SELECT status FROM llm_calls")} == {"ok", "error"}

    fallback.default = error(503, "down too")  # every endpoint fails: the offline router still decides
    outcome = decisions.submit(text_unit("Заказ 2 шт. стулья 3000 руб", message_id=62))
    assert outcome.kind == "done" and outcome.action == "spreadsheet_row"
    audit = rows(engine, "SELECT method, providers FROM decisions WHERE message_ids = '[62]'::jsonb")[0]
    assert audit["method"] == "offline:rules@1"
    assert [(a["provider"], a["status"]) for a in audit["providers"]] == [
        ("primary", "error"), ("fallback", "error"), ("offline", "ok")]


def test_llm_chain_runs_three_validated_stages_on_their_models(engine, decision_settings, openai_servers):
    from telegram_intel.llm.config import LLMSettings

    primary, _ = openai_servers
    primary.push(
        ok({"action": "llm_chain", "confidence": 0.9, "arguments": {"goal": "note"}, "rationale": "organise"}),
        ok({"language": "en", "facts": [{"name": "item", "value": "vase"}]}),
        ok({"title": "Vase", "summary": "A vase."}),  # no tags: invalid for the enrich schema → retried
        ok({"title": "Vase", "summary": "A vase.", "tags": ["decor"]}),
        ok({"text": "Vase\nA vase.\n#decor"}),
    )
    settings = decision_settings(primary=LLMSettings(base_url=primary.url, model="route-model"),
                                 chain_models={"extract": "small", "enrich": "large", "format": "small"})
    client = llm_client(primary, engine)
    client.retry = RetryPolicy(max_attempts=2, base_delay=0, max_delay=0)
    decisions = DecisionEngine(engine, settings, chain=ProviderChain([Provider("primary", client)]))
    outcome = decisions.submit(text_unit("the vase from yesterday", message_id=70))
    assert outcome.kind == "done", outcome.message
    assert outcome.message == "Vase\nA vase.\n#decor"
    assert [r["body"]["model"] for r in primary.requests] == ["route-model", "small", "large", "large", "small"]
    stages = outcome.result["stages"]
    assert [(s["stage"], s["model"]) for s in stages] == [("extract", "small"), ("enrich", "large"),
                                                          ("format", "small")]


def test_migration_0016_matches_the_models(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import telegram_intel.db.decision_models  # noqa: F401
    from telegram_intel.db.models import Base

    tables = ("decisions", "decision_outcomes", "decision_album_parts", "decision_conversations")
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if any(f"'{t}'" in repr(d) or f"table {t}" in repr(d) for t in tables)] == []


def test_opting_out_or_forgetting_a_person_removes_their_decisions(engine, decision_settings, tmp_path):
    from telegram_intel.pipeline.privacy import forget_user, set_ignored

    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO telegram_users (user_id) VALUES (42), (43)"))
    decisions = DecisionEngine(engine, decision_settings())
    assert decisions.submit(text_unit("order 3 pcs mugs 45 USD", message_id=80, sender_id=42)).kind == "done"
    assert decisions.submit(text_unit("hmm", message_id=81, sender_id=42)).kind == "followup"
    assert decisions.submit(text_unit("order 2 pcs cups 10 USD", message_id=82, sender_id=43)).kind == "done"
    decisions.record_album_part(MessagePart(CHAT, 90, 43, "", (MediaItem("photo", "f", "u90"),), "g-43"))

    set_ignored(engine, 42, True)
    assert [r["sender_id"] for r in rows(engine, "SELECT sender_id FROM decisions")] == [43]
    assert rows(engine, "SELECT * FROM decision_conversations") == []
    forget_user(engine, 43, media_root=tmp_path, data_root=tmp_path)
    assert rows(engine, "SELECT * FROM decisions") == [] and rows(engine, "SELECT * FROM decision_outcomes") == []
    assert rows(engine, "SELECT * FROM decision_album_parts") == []
