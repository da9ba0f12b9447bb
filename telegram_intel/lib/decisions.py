"""Pure logic of the decision engine: what arrives (messages, albums, media), what the router decides, and the keys
that make every action happen at most once.

* ``MediaItem`` / ``MessagePart`` / ``IncomingUnit`` — one Telegram message, and the unit a decision is made for (one
  message, or a whole album: Telegram delivers an album as one update per photo sharing a ``media_group_id``).
* ``AlbumDebouncer`` — the album state machine: a group is complete when no part arrived for ``window_s``.
* ``validate_media`` / ``sniff_mime`` — MIME type (declared and sniffed from the bytes) and size limits.
* ``decision_schema`` / ``parse_decision`` — the JSON schema an LLM's answer must satisfy, and its reading.
* ``route_offline`` — the rule-based router (ru/en/tr cues), used when every LLM endpoint failed or none is set.
* ``idempotency_key`` / ``make_sku`` — the natural key of a unit and the deterministic SKU derived from it.

Nothing here does I/O; the engine that stores and acts is ``telegram_intel.pipeline.decisions``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# Built-in action names (the registry in pipeline/decisions/actions.py maps them to classes).
DRAFT_PRODUCT = "woocommerce_draft_product"
SPREADSHEET_ROW = "spreadsheet_row"
ASK_FOLLOWUP = "ask_followup"
LLM_CHAIN = "llm_chain"

OFFLINE_ROUTER = "offline:rules@1"

# -------------------------------------------------------------------------------------------------------------------
# Incoming messages


@dataclass(frozen=True)
class MediaItem:
    """One file of a message, as Telegram describes it (no bytes: those are downloaded only when a decision needs
    them). A photo is the largest size Telegram offers; photos carry no MIME type (Telegram re-encodes them as
    JPEG)."""

    kind: str  # photo | document | video
    file_id: str
    file_unique_id: str
    mime_type: str | None = None
    file_size: int | None = None
    file_name: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def declared_mime(self) -> str:
        if self.mime_type:
            return self.mime_type.lower()
        return "image/jpeg" if self.kind == "photo" else "application/octet-stream"

    @property
    def is_image(self) -> bool:
        return self.declared_mime.startswith("image/")

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MediaItem:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class MessagePart:
    """One message as delivered (an album arrives as several)."""

    chat_id: int
    message_id: int
    sender_id: int | None = None
    text: str = ""  # the text, or the caption of a media message
    media: tuple[MediaItem, ...] = ()
    media_group_id: str | None = None
    date: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"chat_id": self.chat_id, "message_id": self.message_id, "sender_id": self.sender_id,
                "text": self.text, "media": [m.as_dict() for m in self.media],
                "media_group_id": self.media_group_id, "date": self.date.isoformat() if self.date else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MessagePart:
        date = data.get("date")
        return cls(chat_id=int(data["chat_id"]), message_id=int(data["message_id"]), sender_id=data.get("sender_id"),
                   text=data.get("text") or "", media=tuple(MediaItem.from_dict(m) for m in data.get("media") or ()),
                   media_group_id=data.get("media_group_id"),
                   date=datetime.fromisoformat(date) if isinstance(date, str) else date)


@dataclass(frozen=True)
class IncomingUnit:
    """What one decision is made for: a single message or a whole album."""

    chat_id: int
    message_ids: tuple[int, ...]
    sender_id: int | None = None
    text: str = ""
    media: tuple[MediaItem, ...] = ()
    media_group_id: str | None = None
    source: str = "bot"  # bot | listener

    @property
    def key(self) -> str:
        return idempotency_key(self.chat_id, media_group_id=self.media_group_id, message_id=self.message_ids[0])

    @property
    def images(self) -> tuple[MediaItem, ...]:
        return tuple(m for m in self.media if m.is_image)

    def describe(self) -> dict[str, Any]:
        """What may be stored and shown about the unit: counts and file facts, never the text."""
        return {"messages": len(self.message_ids), "text_chars": len(self.text),
                "media": [{"kind": m.kind, "mime": m.declared_mime, "size": m.file_size} for m in self.media]}


def idempotency_key(chat_id: int, *, media_group_id: str | None = None, message_id: int | None = None) -> str:
    """The natural key of a unit: the album (chat + media group) or the message (chat + message id). A re-delivered
    update, or any part of an album, maps to the same key, so a unique constraint on it allows one decision."""
    if media_group_id:
        return f"{int(chat_id)}:album:{media_group_id}"
    if message_id is None:
        raise ValueError("idempotency_key needs a media_group_id or a message_id")
    return f"{int(chat_id)}:msg:{int(message_id)}"


def assemble(parts: Iterable[MessagePart], *, source: str = "bot") -> IncomingUnit:
    """One unit from the parts of an album (or a single message): parts in message order, each re-delivered part
    once, the captions joined (Telegram shows the caption of whichever part has one, usually the first)."""
    unique: dict[int, MessagePart] = {}
    for part in parts:
        unique.setdefault(part.message_id, part)
    if not unique:
        raise ValueError("an incoming unit needs at least one message")
    ordered = [unique[k] for k in sorted(unique)]
    chats = {p.chat_id for p in ordered}
    groups = {p.media_group_id for p in ordered}
    if len(chats) != 1 or len(groups) != 1:
        raise ValueError(f"parts of different chats or albums cannot form one unit: chats {sorted(chats)}, "
                         f"albums {sorted(map(str, groups))}")
    texts = [p.text.strip() for p in ordered if p.text and p.text.strip()]
    media: list[MediaItem] = []
    seen: set[str] = set()
    for p in ordered:
        for m in p.media:
            if m.file_unique_id not in seen:
                seen.add(m.file_unique_id)
                media.append(m)
    first = ordered[0]
    return IncomingUnit(chat_id=first.chat_id, message_ids=tuple(p.message_id for p in ordered),
                        sender_id=first.sender_id, text="\n".join(texts), media=tuple(media),
                        media_group_id=first.media_group_id, source=source)


@dataclass
class AlbumDebouncer:
    """Album collection as a state machine over an injected clock: each part (re)starts its group's timer; a group
    is due once ``window_s`` passed without a new part. Telegram sends the parts of an album within a fraction of a
    second, so a window of 1–2 s collects them without delaying single messages (which never wait)."""

    window_s: float = 1.5
    _deadlines: dict[tuple[int, str], float] = field(default_factory=dict)

    def touch(self, chat_id: int, media_group_id: str, now: float) -> float:
        deadline = now + self.window_s
        self._deadlines[(chat_id, media_group_id)] = deadline
        return deadline

    def due(self, now: float) -> list[tuple[int, str]]:
        """Groups whose window has passed, removed from the pending set (each is returned once)."""
        ready = sorted(k for k, deadline in self._deadlines.items() if deadline <= now)
        for k in ready:
            del self._deadlines[k]
        return ready

    def pending(self) -> list[tuple[int, str]]:
        return sorted(self._deadlines)

    def next_deadline(self) -> float | None:
        return min(self._deadlines.values(), default=None)


# -------------------------------------------------------------------------------------------------------------------
# Media validation

_MB = 1024 * 1024


@dataclass(frozen=True)
class MediaPolicy:
    """What files a decision may use. Bots can download files up to 20 MB through the Bot API."""

    allowed: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: {
        "photo": ("image/jpeg", "image/png", "image/webp"),
        "document": ("image/jpeg", "image/png", "image/webp", "application/pdf", "text/csv", "text/plain",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "video": ("video/mp4", "video/quicktime"),
    })
    max_bytes: Mapping[str, int] = field(default_factory=lambda: {"photo": 10 * _MB, "document": 20 * _MB,
                                                                  "video": 20 * _MB})
    max_items: int = 10  # Telegram's album limit


class MediaRejected(ValueError):
    """A file the policy does not accept; the message names the file and the problem."""


def _label(item: MediaItem) -> str:
    return f"{item.kind} {item.file_name or item.file_unique_id}"


def validate_media(items: Sequence[MediaItem], policy: MediaPolicy = MediaPolicy()) -> None:
    """Raise ``MediaRejected`` for the first file of an unsupported kind or MIME type, or over the size limit."""
    if len(items) > policy.max_items:
        raise MediaRejected(f"{len(items)} files in one message; at most {policy.max_items} are accepted")
    for item in items:
        if item.kind not in policy.allowed:
            raise MediaRejected(f"{_label(item)}: files of kind {item.kind!r} are not accepted")
        if item.declared_mime not in policy.allowed[item.kind]:
            raise MediaRejected(f"{_label(item)}: MIME type {item.declared_mime} is not accepted for a {item.kind} "
                                f"(accepted: {', '.join(policy.allowed[item.kind])})")
        limit = policy.max_bytes.get(item.kind)
        if limit is not None and item.file_size is not None and item.file_size > limit:
            raise MediaRejected(f"{_label(item)}: {item.file_size / _MB:.1f} MB is over the "
                                f"{limit / _MB:.0f} MB limit for a {item.kind}")


def sniff_mime(data: bytes) -> str | None:
    """The MIME type the bytes really are (magic numbers of the accepted formats), or None when unknown."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    if data.startswith(b"PK\x03\x04"):
        return "application/zip"
    return None


def check_content(item: MediaItem, data: bytes, policy: MediaPolicy = MediaPolicy()) -> str:
    """The MIME type of downloaded bytes, checked against the declared one and the size limit: a file that claims
    to be a JPEG but is not one is refused before it reaches a model or a shop."""
    limit = policy.max_bytes.get(item.kind)
    if limit is not None and len(data) > limit:
        raise MediaRejected(f"{_label(item)}: {len(data) / _MB:.1f} MB is over the {limit / _MB:.0f} MB limit")
    sniffed = sniff_mime(data)
    declared = item.declared_mime
    if declared.startswith("image/"):
        if sniffed is None or not sniffed.startswith("image/"):
            raise MediaRejected(f"{_label(item)}: declared {declared} but the content is not an image")
        return sniffed
    if declared == "application/pdf" and sniffed != "application/pdf":
        raise MediaRejected(f"{_label(item)}: declared {declared} but the content is not a PDF")
    if declared.startswith("video/") and (sniffed is None or not sniffed.startswith("video/")):
        raise MediaRejected(f"{_label(item)}: declared {declared} but the content is not a video")
    return sniffed or declared


def image_data_url(mime: str, data: bytes) -> str:
    """An image as a ``data:`` URL, the form OpenAI-compatible vision models take in an ``image_url`` part."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


# -------------------------------------------------------------------------------------------------------------------
# Decisions

PRODUCT_ARGUMENTS: dict[str, Any] = {
    "type": "object",
    "required": ["title"],
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "seo_title": {"type": "string", "maxLength": 70},
        "description": {"type": "string", "maxLength": 5000},
        "short_description": {"type": "string", "maxLength": 500},
        "price": {"type": ["number", "null"], "minimum": 0},
        "category": {"type": ["string", "null"], "maxLength": 100},
    },
}

ROW_ARGUMENTS: dict[str, Any] = {
    "type": "object",
    "required": ["item"],
    "properties": {
        "customer": {"type": ["string", "null"], "maxLength": 200},
        "item": {"type": "string", "minLength": 1, "maxLength": 300},
        "quantity": {"type": ["number", "null"], "minimum": 0},
        "unit_price": {"type": ["number", "null"], "minimum": 0},
        "total": {"type": ["number", "null"], "minimum": 0},
        "note": {"type": ["string", "null"], "maxLength": 1000},
    },
}

FOLLOWUP_ARGUMENTS: dict[str, Any] = {
    "type": "object",
    "required": ["question"],
    "properties": {
        "question": {"type": "string", "minLength": 1, "maxLength": 500},
        "options": {"type": "array", "items": {"type": "string"}, "maxItems": 6},
    },
}

CHAIN_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {"goal": {"type": "string", "maxLength": 500}}}

ROW_COLUMNS = ("date", "customer", "item", "quantity", "unit_price", "total", "note")


def decision_schema(actions: Sequence[str]) -> dict[str, Any]:
    """The JSON schema of a routing answer for the given action names."""
    return {
        "type": "object",
        "required": ["action", "confidence", "arguments", "rationale"],
        "properties": {
            "action": {"type": "string", "enum": list(actions)},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "arguments": {"type": "object"},
            "rationale": {"type": "string", "maxLength": 1000},
        },
    }


@dataclass(frozen=True)
class Decision:
    action: str
    confidence: float
    arguments: dict[str, Any]
    rationale: str
    method: str = OFFLINE_ROUTER  # "offline:rules@1" or "llm:<provider>:<model>"

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "confidence": self.confidence, "arguments": self.arguments,
                "rationale": self.rationale, "method": self.method}

    def with_action(self, action: str, arguments: dict[str, Any] | None = None, *, method: str | None = None,
                    confidence: float | None = None) -> Decision:
        return replace(self, action=action, arguments=dict(arguments if arguments is not None else self.arguments),
                       method=method or self.method, confidence=self.confidence if confidence is None else confidence)


def parse_decision(data: Mapping[str, Any], *, method: str) -> Decision:
    """A validated answer (the LLM layer already checked ``decision_schema``) as a ``Decision``."""
    return Decision(action=str(data["action"]), confidence=float(data["confidence"]),
                    arguments=dict(data.get("arguments") or {}), rationale=str(data.get("rationale") or ""),
                    method=method)


def needs_followup(decision: Decision, threshold: float) -> bool:
    """Below the threshold the bot asks instead of acting (and it always asks when the decision is to ask)."""
    return decision.action == ASK_FOLLOWUP or decision.confidence < threshold


# -------------------------------------------------------------------------------------------------------------------
# The offline router

_CURRENCY = r"(?:₽|руб\.?|р\.|rub|\$|usd|€|eur|₺|tl|try|lira|лир)"
_AMOUNT = r"\d{1,3}(?:[ \u00a0.,]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_PRICE = re.compile(rf"(?:(?:price|цена|стоимость|fiyat(?:ı)?)\s*[:=\-]?\s*(?P<a>{_AMOUNT})\s*{_CURRENCY}?)"
                    rf"|(?:(?P<b>{_AMOUNT})\s*{_CURRENCY})|(?:{_CURRENCY}\s*(?P<c>{_AMOUNT}))", re.I)
_ORDER = re.compile(r"\b(?:order(?:ed|s)?|заказ\w*|закаж\w*|sipariş\w*|siparis\w*)\b", re.I)
_QUANTITY = re.compile(r"(?P<q>\d+)\s*(?:x|×|шт\.?|штук\w*|pcs|pieces|units?|adet)\b"
                       r"|(?:x|×)\s*(?P<q2>\d+)\b", re.I)
_PRODUCT = re.compile(r"\b(?:for sale|selling|sell|new product|product|продаю|продам|продаётся|продается|товар\w*|"
                      r"новинк\w*|satılık|satilik|satıyorum|ürün\w*|urun\w*)\b", re.I)
_CUSTOMER = re.compile(r"(?:from|for|customer|client|от|для|клиент|müşteri)\s*[:\-]?\s*(?P<n>[A-ZА-ЯЁÇĞİÖŞÜ@][\w@.\-]*"
                       r"(?:\s+[A-ZА-ЯЁÇĞİÖŞÜ][\w\-]*)?)")
_CATEGORIES = {  # cue → WooCommerce category name
    "Clothing": r"\b(?:dress|shirt|jacket|coat|платье|рубашк\w*|куртк\w*|пальто|elbise|gömlek|ceket)\b",
    "Shoes": r"\b(?:shoes?|sneakers?|boots?|обувь|кроссовк\w*|ботинк\w*|ayakkabı)\b",
    "Furniture": r"\b(?:chair|table|sofa|lamp|стул|стол|диван|лампа|sandalye|masa|kanepe)\b",
    "Electronics": r"\b(?:phone|laptop|headphones?|телефон|ноутбук|наушник\w*|telefon|kulaklık)\b",
}


def parse_amount(text: str) -> Decimal | None:
    """``1 200,50`` / ``1.200,50`` / ``1,200.50`` / ``1200`` → Decimal; None when not a number."""
    s = text.replace("\u00a0", " ").strip()
    s = s.replace(" ", "")
    if "," in s and "." in s:
        decimal_sep = "," if s.rfind(",") > s.rfind(".") else "."
        s = s.replace("." if decimal_sep == "," else ",", "").replace(decimal_sep, ".")
    elif "," in s:
        head, _, tail = s.rpartition(",")
        s = f"{head.replace(',', '')}.{tail}" if len(tail) <= 2 else s.replace(",", "")
    elif s.count(".") == 1 and len(s.rpartition(".")[2]) == 3:
        s = s.replace(".", "")  # 1.200 is a thousands separator
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def find_price(text: str) -> Decimal | None:
    for m in _PRICE.finditer(text):
        amount = parse_amount(m.group("a") or m.group("b") or m.group("c") or "")
        if amount is not None:
            return amount
    return None


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = _PRICE.sub("", line).strip(" \t-–—:,.;")
        if line:
            return line
    return ""


def guess_category(text: str) -> str | None:
    for name, pattern in _CATEGORIES.items():
        if re.search(pattern, text, re.I):
            return name
    return None


def seo_title(title: str, limit: int = 60) -> str:
    """A title within ``limit`` characters (search engines cut longer ones), cut at a word boundary."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1].rsplit(" ", 1)[0] or title[: limit - 1]
    return cut.rstrip(" ,.;:-") + "…"


def route_offline(unit: IncomingUnit, actions: Sequence[str] = (DRAFT_PRODUCT, SPREADSHEET_ROW)) -> Decision:
    """The rule-based router: photos with a caption that offers something (a price, a sale cue) are a product; a text
    naming an order with a quantity or a price is a spreadsheet row; anything else gets a question. Confidences are
    fixed per rule (how often each rule is right is not measured here), so the engine's threshold decides whether the
    bot asks first."""
    text = unit.text or ""
    price = find_price(text)
    if DRAFT_PRODUCT in actions and unit.images and (price is not None or _PRODUCT.search(text)):
        title = _first_line(text) or "Untitled product"
        args = {"title": title[:200], "seo_title": seo_title(title), "description": text.strip()[:5000],
                "price": float(price) if price is not None else None, "category": guess_category(text)}
        return Decision(DRAFT_PRODUCT, 0.8 if price is not None else 0.6, args,
                        f"{len(unit.images)} image(s) with a caption offering an item"
                        + (" at a price" if price is not None else ""))
    quantity = _QUANTITY.search(text)
    if SPREADSHEET_ROW in actions and _ORDER.search(text) and (quantity or price is not None):
        qty = float(quantity.group("q") or quantity.group("q2")) if quantity else None
        item = _ORDER.sub("", _QUANTITY.sub("", _first_line(text))).strip(" \t-–—:,.;") or "item"
        customer = _CUSTOMER.search(text)
        total = float(price) if price is not None else None
        args = {"customer": customer.group("n") if customer else None, "item": item[:300], "quantity": qty,
                "unit_price": round(total / qty, 2) if (total is not None and qty) else None, "total": total,
                "note": None}
        return Decision(SPREADSHEET_ROW, 0.75, args, "an order with a quantity or an amount")
    options = [a for a in actions if a in (DRAFT_PRODUCT, SPREADSHEET_ROW)]
    what = "these photos" if unit.images else ("this file" if unit.media else "this message")
    return Decision(ASK_FOLLOWUP, 0.2, {"question": f"What should I do with {what}?", "options": options},
                    "no rule matched")


def chosen_decision(unit: IncomingUnit, action: str) -> Decision:
    """The offline decision for an action the user chose (a follow-up button): the rule's arguments when the rule
    matches, else the best the text gives (its first line as the title or item). The user's choice is the
    confidence."""
    routed = route_offline(unit, [action])
    if routed.action == action:
        return routed.with_action(action, confidence=1.0)
    text = unit.text or ""
    price = find_price(text)
    if action == DRAFT_PRODUCT:
        title = _first_line(text) or "Untitled product"
        args: dict[str, Any] = {"title": title[:200], "seo_title": seo_title(title), "description": text.strip()[:5000],
                                "price": float(price) if price is not None else None,
                                "category": guess_category(text)}
    elif action == SPREADSHEET_ROW:
        quantity = _QUANTITY.search(text)
        args = {"item": (_first_line(text) or "item")[:300],
                "quantity": float(quantity.group("q") or quantity.group("q2")) if quantity else None,
                "total": float(price) if price is not None else None}
    else:
        args = {}
    return Decision(action, 1.0, args, "chosen by the user")


def row_values(arguments: Mapping[str, Any], columns: Sequence[str], when: datetime) -> list[Any]:
    """A spreadsheet row in column order; ``date`` is the decision's time, missing fields are empty cells."""
    values: list[Any] = []
    for column in columns:
        if column == "date":
            values.append(when.strftime("%Y-%m-%d %H:%M"))
        else:
            value = arguments.get(column)
            values.append("" if value is None else value)
    return values


# -------------------------------------------------------------------------------------------------------------------
# SKU

_B32 = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: SKUs are read aloud and typed


def _ascii_slug(text: str, limit: int) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
    words = re.findall(r"[A-Z0-9]+", folded)
    return "".join(w[:3] for w in words)[:limit]


def make_sku(key: str, title: str = "", *, prefix: str = "TI") -> str:
    """A SKU fixed by the unit's idempotency key (the same album always gets the same SKU, which is how a product
    created before a crash is found again) with a readable part from the title: ``TI-REDDRE-7KQ2M9XA``."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    number = int.from_bytes(digest[:8], "big")
    code = ""
    for _ in range(8):
        number, r = divmod(number, len(_B32))
        code += _B32[r]
    slug = _ascii_slug(title, 6)
    return "-".join(p for p in (prefix, slug, code) if p)
