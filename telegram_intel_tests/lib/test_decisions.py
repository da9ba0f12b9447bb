"""Pure logic of the decision engine: units, albums, media checks, the offline router, keys and SKUs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from telegram_intel.lib.decisions import (
    ASK_FOLLOWUP,
    DRAFT_PRODUCT,
    SPREADSHEET_ROW,
    AlbumDebouncer,
    MediaItem,
    MediaRejected,
    MessagePart,
    assemble,
    check_content,
    decision_schema,
    idempotency_key,
    make_sku,
    needs_followup,
    parse_amount,
    route_offline,
    seo_title,
    sniff_mime,
    validate_media,
)
from telegram_intel_tests.support.decisions import jpeg_bytes


def photo(n: int, size: int = 1000) -> MediaItem:
    return MediaItem("photo", f"f{n}", f"u{n}", file_size=size)


def test_idempotency_key_groups_an_album_and_separates_messages():
    assert idempotency_key(-1001, media_group_id="77", message_id=5) == idempotency_key(-1001, media_group_id="77",
                                                                                        message_id=6)
    assert idempotency_key(-1001, message_id=5) != idempotency_key(-1001, message_id=6)
    assert idempotency_key(-1001, message_id=5) != idempotency_key(-1002, message_id=5)
    with pytest.raises(ValueError):
        idempotency_key(1)


def test_assemble_orders_parts_drops_redelivered_ones_and_keeps_the_caption():
    parts = [MessagePart(1, 12, 7, "", (photo(2),), "g"), MessagePart(1, 11, 7, "Dress 20 USD", (photo(1),), "g"),
             MessagePart(1, 12, 7, "", (photo(2),), "g"), MessagePart(1, 13, 7, "", (photo(3),), "g")]
    unit = assemble(parts)
    assert unit.message_ids == (11, 12, 13) and [m.file_unique_id for m in unit.media] == ["u1", "u2", "u3"]
    assert unit.text == "Dress 20 USD" and unit.key == "1:album:g"
    with pytest.raises(ValueError, match="different chats or albums"):
        assemble([MessagePart(1, 1, media_group_id="a"), MessagePart(1, 2, media_group_id="b")])
    assert MessagePart.from_dict(parts[1].as_dict()) == parts[1]


def test_album_debouncer_waits_for_the_last_part():
    d = AlbumDebouncer(window_s=1.0)
    d.touch(1, "g", now=0.0)
    d.touch(1, "g", now=0.6)
    d.touch(2, "h", now=0.7)
    assert d.due(1.2) == []  # the second part restarted the window
    assert d.due(1.6) == [(1, "g")]
    assert d.due(1.6) == [] and d.pending() == [(2, "h")] and d.next_deadline() == pytest.approx(1.7)
    assert d.due(5) == [(2, "h")]


def test_media_validation_by_kind_mime_and_size():
    validate_media([photo(1), MediaItem("document", "d", "ud", "application/pdf", 2000, "a.pdf")])
    with pytest.raises(MediaRejected, match="a.exe: MIME type application/x-msdownload"):
        validate_media([MediaItem("document", "d", "ud", "application/x-msdownload", 10, "a.exe")])
    with pytest.raises(MediaRejected, match="over the 10 MB limit"):
        validate_media([photo(1, size=11 * 1024 * 1024)])
    with pytest.raises(MediaRejected, match="kind 'sticker'"):
        validate_media([MediaItem("sticker", "s", "us")])
    with pytest.raises(MediaRejected, match="at most 10"):
        validate_media([photo(i) for i in range(11)])


def test_content_is_sniffed_not_trusted():
    jpeg = jpeg_bytes()
    assert sniff_mime(jpeg) == "image/jpeg" and check_content(photo(1), jpeg) == "image/jpeg"
    assert sniff_mime(b"%PDF-1.7 ...") == "application/pdf"
    with pytest.raises(MediaRejected, match="not an image"):
        check_content(photo(1), b"%PDF-1.7 pretending")
    with pytest.raises(MediaRejected, match="not a PDF"):
        check_content(MediaItem("document", "d", "ud", "application/pdf"), jpeg)


@pytest.mark.parametrize("text,amount", [("1 200,50", "1200.50"), ("1.200,50", "1200.50"), ("1,200.50", "1200.50"),
                                         ("1200", "1200"), ("1.200", "1200"), ("12,5", "12.5"), ("abc", None)])
def test_parse_amount(text, amount):
    assert parse_amount(text) == (Decimal(amount) if amount else None)


@pytest.mark.parametrize("caption,price", [
    ("Red dress, size M\nPrice: 1 200 ₽", 1200.0),
    ("Продаю кроссовки Nike, 42 размер — 5000 руб", 5000.0),
    ("Satılık deri ceket 750 TL", 750.0),
    ("New product: oak table", None),
])
def test_offline_router_photos_with_an_offer_are_a_product(caption, price):
    unit = assemble([MessagePart(1, 1, 7, caption, (photo(1),))])
    d = route_offline(unit)
    assert d.action == DRAFT_PRODUCT and d.arguments["price"] == price and d.method == "offline:rules@1"
    assert d.arguments["title"] and len(d.arguments["seo_title"]) <= 60
    assert not needs_followup(d, 0.5) and needs_followup(d, 0.9)


@pytest.mark.parametrize("text,qty,total", [
    ("Order: 3 x blue mugs for Anna, 45 USD", 3, 45.0),
    ("Заказ 2 шт. стулья для Ивана 3000 руб", 2, 3000.0),
    ("Sipariş: 5 adet bardak", 5, None),
])
def test_offline_router_orders_are_rows(text, qty, total):
    d = route_offline(assemble([MessagePart(1, 1, 7, text)]))
    assert d.action == SPREADSHEET_ROW and d.arguments["quantity"] == qty and d.arguments["total"] == total


def test_offline_router_asks_when_nothing_matches_and_respects_the_offered_actions():
    d = route_offline(assemble([MessagePart(1, 1, 7, "what do you think?")]))
    assert d.action == ASK_FOLLOWUP and needs_followup(d, 0.0)
    unit = assemble([MessagePart(1, 1, 7, "Dress 20 USD", (photo(1),))])
    assert route_offline(unit, [SPREADSHEET_ROW]).action == ASK_FOLLOWUP  # the shop is not configured


def test_sku_is_deterministic_per_unit_and_readable():
    a = make_sku("1:album:g", "Red summer dress")
    assert a == make_sku("1:album:g", "Red summer dress") and a.startswith("TI-REDSUM-")
    assert a != make_sku("1:album:h", "Red summer dress")
    assert make_sku("1:album:g", "Кроссовки").startswith("TI-") and len(make_sku("k", "").split("-")) == 2
    assert set(a.split("-")[-1]) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")


def test_decision_schema_and_seo_title():
    schema = decision_schema(["a", "b"])
    assert schema["properties"]["action"]["enum"] == ["a", "b"]
    assert schema["properties"]["confidence"] == {"type": "number", "minimum": 0, "maximum": 1}
    long = "word " * 30
    assert len(seo_title(long)) <= 60 and seo_title(long).endswith("…")
