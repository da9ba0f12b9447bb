"""A fake Telegram Bot API: a real HTTP server on 127.0.0.1 that aiogram talks to, plus update builders.

Fixture API (registered as a pytest plugin in ``telegram_intel_tests/conftest.py``)::

    def test_x(fake_bot_api):                      # FakeBotAPI, started; stopped after the test
        fake_bot_api.url                           # "http://127.0.0.1:PORT" (the API base, no /bot<token>)
        fake_bot_api.token                         # TOKEN: the only token it accepts (401 / 404 otherwise)
        bot = make_bot(fake_bot_api)               # aiogram Bot using it (create it inside the running loop)
        fake_bot_api.add_file("VOICE1", data, "voice/file_1.oga")   # getFile + GET /file/bot<token>/<path>
        fake_bot_api.push_update(voice_update("VOICE1", duration=3))  # queued for getUpdates (update_id added)
        await dp.feed_update(bot, Update.model_validate(voice_update(...)))  # or feed it directly
        calls = fake_bot_api.wait_for("sendMessage", count=1, timeout=20)  # blocks until that many calls
        fake_bot_api.calls("sendMessage")          # list[Call]; .calls() = every call except getUpdates
        call.params                                # decoded: ints for ids, JSON for reply_markup, entities, ...
        call.files                                 # {field: (filename, bytes)} of multipart uploads
        fake_bot_api.sent_messages(chat_id)        # messages the bot sent/edited, as the API returned them
        fake_bot_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)

Update builders return Bot API ``Update`` dicts (without ``update_id``; ``push_update`` adds one):
``message_update(text, ...)`` (a leading "/command" gets its bot_command entity), ``voice_update``,
``video_note_update``, ``audio_update``, ``photo_update`` / ``document_update`` (``media_group_id=`` for albums),
``callback_update(data, message=...)`` (``message`` = a message dict the bot sent, e.g. ``call.result``).

The server checks what the real API checks and a bot can get wrong: the token in the path, unknown methods (404),
required parameters, message length (4096) and empty text, HTML ``parse_mode`` markup (only Telegram's tags,
balanced), callback_data length (1-64 bytes), edits of unknown or unchanged messages, callback query ids it never
issued, unknown file ids. Results follow the documented shapes (User, Message, File, Chat, True).

``BotRunner(dispatcher, bot_factory)`` polls in a background thread (its own event loop) for tests that drive the
bot through getUpdates like production; ``.stop()`` stops polling and closes the bot session.

``bot_harness`` runs the real service (``telegram_intel.bot.app.build_dispatcher``) against ``fake_bot_api``::

    bot = bot_harness(features=("voice", "persona"), voice=service, persona=chat, extras={...},
                      extra_routers=(router,), admins=(USER_ID,))   # other keywords: BotSettings fields
    bot.send(message_update("/start")); fake_bot_api.wait_for("sendMessage")
    bot.ctx, bot.dispatcher, bot.get("/health"), bot.metrics()   # /metrics parsed by prometheus_client

``ogg_opus(wav_path)`` re-encodes speech the way Telegram stores voice messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import html.parser
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
BOT_ID = 123456789
BOT_USERNAME = "telegram_intel_test_bot"
USER_ID = 4242
USER = {"id": USER_ID, "is_bot": False, "first_name": "Test", "last_name": "User", "username": "test_user",
        "language_code": "en"}
BASE_DATE = 1_760_000_000

# Parameters whose multipart string is JSON (aiogram serializes objects and lists to JSON).
_JSON_PARAMS = {"reply_markup", "entities", "caption_entities", "commands", "scope", "allowed_updates",
                "link_preview_options", "reply_parameters", "media", "reaction"}
_INT_PARAMS = {"chat_id", "message_id", "offset", "limit", "timeout", "from_chat_id", "user_id",
               "message_thread_id", "cache_time", "duration", "reply_to_message_id"}
_BOOL_PARAMS = {"disable_notification", "show_alert", "drop_pending_updates", "protect_content",
                "disable_web_page_preview", "allow_sending_without_reply"}
# https://core.telegram.org/bots/api#html-style
_HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "tg-emoji",
              "code", "pre", "blockquote"}
MAX_TEXT = 4096
MAX_CAPTION = 1024


class BotAPIError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    result: Any = None  # what the server answered (None after an error)
    error: str | None = None
    at: float = field(default_factory=time.monotonic)


class _HTMLCheck(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problem: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in _HTML_TAGS:
            self.problem = self.problem or f"Unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problem = self.problem or f"Unexpected end tag \"{tag}\""
        else:
            self.stack.pop()


def check_html(text: str) -> None:
    """Raise ``BotAPIError`` like Telegram does for markup it cannot parse."""
    parser = _HTMLCheck()
    parser.feed(text)
    parser.close()
    if parser.problem is None and parser.stack:
        parser.problem = f"Can't find end tag corresponding to start tag \"{parser.stack[-1]}\""
    if parser.problem is None and "<" in parser.rawdata:
        parser.problem = "Unclosed start tag"
    if parser.problem:
        raise BotAPIError(400, f"Bad Request: can't parse entities: {parser.problem}")


def _decode(name: str, value: str) -> Any:
    if name in _JSON_PARAMS:
        return json.loads(value)
    if name in _INT_PARAMS and value.lstrip("-").isdigit():
        return int(value)
    if name in _BOOL_PARAMS and value in ("true", "false"):
        return value == "true"
    return value


class FakeBotAPI:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Intel Test Bot", "username": BOT_USERNAME,
                         "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": False}
        self._calls: list[Call] = []
        self._cond = threading.Condition()
        self._files: dict[str, dict[str, Any]] = {}
        self._file_bytes: dict[str, bytes] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat_id, message_id) -> sent message
        self._answered_callbacks: set[str] = set()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._failures: dict[str, list[BotAPIError]] = {}
        self.commands: list[dict[str, Any]] = []
        self.file_downloads: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-bot-api", daemon=True)
        self._updates_event: asyncio.Event | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeBotAPI:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        self._updates_event = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    # -- what tests set up -----------------------------------------------------------------------------------

    def add_file(self, file_id: str, data: bytes, path: str, *, file_unique_id: str | None = None) -> dict[str, Any]:
        """Make ``file_id`` known to getFile and its bytes downloadable at ``/file/bot<token>/<path>``."""
        info = {"file_id": file_id, "file_unique_id": file_unique_id or f"u-{file_id}", "file_size": len(data),
                "file_path": path}
        with self._cond:
            self._files[file_id] = info
            self._file_bytes[path] = data
        return info

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (an ``update_id`` is assigned when missing); returns it."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        with self._cond:
            self._updates.append(update)
        self._loop.call_soon_threadsafe(self._updates_event.set)
        return update

    def fail_next(self, method: str, code: int, description: str, *, retry_after: int | None = None) -> None:
        """The next call of ``method`` fails with this Bot API error."""
        with self._cond:
            self._failures.setdefault(method, []).append(BotAPIError(code, description, retry_after))

    # -- what tests read -------------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            if method is None:
                return [c for c in self._calls if c.method != "getUpdates"]
            return [c for c in self._calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0,
                 where: Callable[[Call], bool] | None = None) -> list[Call]:
        """Block until ``count`` successful calls of ``method`` (matching ``where``) were answered."""
        deadline = time.monotonic() + timeout

        def matching() -> list[Call]:
            return [c for c in self._calls if c.method == method and c.error is None and (where is None or where(c))]

        with self._cond:
            while len(found := matching()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.error) for c in self._calls if c.method != "getUpdates"]
                    raise AssertionError(f"expected {count} {method} call(s) within {timeout}s, saw {seen}")
                self._cond.wait(left)
            return found

    def sent_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [m for (c, _), m in sorted(self._messages.items()) if chat_id is None or c == chat_id]

    def pending_updates(self) -> int:
        with self._cond:
            return len(self._updates)

    # -- HTTP ------------------------------------------------------------------------------------------------

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        path = request.match_info["path"]
        with self._cond:
            data = self._file_bytes.get(path)
            self.file_downloads.append(path)
        if data is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[str, bytes]] = {}
        if request.method == "POST" and request.content_type == "application/json":
            params.update(await request.json())
        elif request.method == "POST":
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = (value.filename, value.file.read())
                else:
                    params[name] = value
        try:
            params = {k: _decode(k, v) if isinstance(v, str) else v for k, v in params.items()}
        except json.JSONDecodeError as exc:
            return self._error(Call(method, params, files), BotAPIError(400, f"Bad Request: can't parse JSON: {exc}"))
        call = Call(method, params, files)
        with self._cond:
            failures = self._failures.get(method)
            failure = failures.pop(0) if failures else None
        if failure is not None:
            return self._error(call, failure)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(call, BotAPIError(404, "Not Found: method not found"))
        try:
            result = await handler(params, files)
        except BotAPIError as exc:
            return self._error(call, exc)
        call.result = result
        self._record(call)
        return web.json_response({"ok": True, "result": result})

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _error(self, call: Call, exc: BotAPIError) -> web.Response:
        call.error = exc.description
        self._record(call)
        body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
        if exc.retry_after is not None:
            body["parameters"] = {"retry_after": exc.retry_after}
        return web.json_response(body, status=exc.code)

    # -- methods ---------------------------------------------------------------------------------------------

    @staticmethod
    def _require(params: dict[str, Any], *names: str) -> None:
        for name in names:
            if params.get(name) in (None, ""):
                raise BotAPIError(400, f"Bad Request: parameter \"{name}\" is required")

    @staticmethod
    def _check_markup(params: dict[str, Any]) -> None:
        markup = params.get("reply_markup")
        if not markup:
            return
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise BotAPIError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise BotAPIError(400, "Bad Request: text buttons are unallowed in the inline keyboard")

    @staticmethod
    def _check_text(text: str, parse_mode: str | None, limit: int, what: str = "message text") -> None:
        if not text.strip():
            raise BotAPIError(400, f"Bad Request: {what} is empty")
        if len(text) > limit:
            raise BotAPIError(400, "Bad Request: message is too long")
        if parse_mode and parse_mode.upper() == "HTML":
            check_html(text)

    def _new_message(self, chat_id: Any, **content: Any) -> dict[str, Any]:
        if isinstance(chat_id, str) and not chat_id.startswith("@"):
            raise BotAPIError(400, "Bad Request: chat not found")
        chat_id = chat_id if isinstance(chat_id, int) else -1001
        message_id = next_message_id()
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id > 0:
            chat["first_name"] = "Test"
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": self.bot_user,
                   **{k: v for k, v in content.items() if v is not None}}
        with self._cond:
            self._messages[(chat_id, message_id)] = message
        return message

    async def _m_getMe(self, params, files):
        return self.bot_user

    async def _m_logOut(self, params, files):
        return True

    async def _m_close(self, params, files):
        return True

    async def _m_deleteWebhook(self, params, files):
        return True

    async def _m_getWebhookInfo(self, params, files):
        return {"url": "", "has_custom_certificate": False, "pending_update_count": self.pending_updates()}

    async def _m_setMyCommands(self, params, files):
        self._require(params, "commands")
        for command in params["commands"]:
            name = command.get("command", "")
            if not (1 <= len(name) <= 32 and name.replace("_", "").isalnum() and name.islower()):
                raise BotAPIError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise BotAPIError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = params["commands"]
        return True

    async def _m_getMyCommands(self, params, files):
        return self.commands

    async def _m_deleteMyCommands(self, params, files):
        self.commands = []
        return True

    async def _m_sendChatAction(self, params, files):
        self._require(params, "chat_id", "action")
        return True

    async def _m_setMessageReaction(self, params, files):
        self._require(params, "chat_id", "message_id")
        return True

    async def _m_sendMessage(self, params, files):
        self._require(params, "chat_id", "text")
        self._check_text(params["text"], params.get("parse_mode"), MAX_TEXT)
        self._check_markup(params)
        return self._new_message(params["chat_id"], text=params["text"], reply_markup=params.get("reply_markup"))

    async def _send_media(self, params, files, kind: str):
        self._require(params, "chat_id", kind)
        caption = params.get("caption")
        if caption is not None:
            self._check_text(caption, params.get("parse_mode"), MAX_CAPTION, "caption")
        self._check_markup(params)
        ref = params[kind]
        name = ref[len("attach://"):] if isinstance(ref, str) and ref.startswith("attach://") else kind
        size = len(files[name][1]) if name in files else 0
        media = {"file_id": f"sent-{kind}-{next_message_id()}", "file_unique_id": f"su-{kind}", "file_size": size}
        if kind == "document" and name in files:
            media["file_name"] = files[name][0]
        return self._new_message(params["chat_id"], caption=caption, reply_markup=params.get("reply_markup"),
                                 **{kind: [media] if kind == "photo" else media})

    async def _m_sendDocument(self, params, files):
        return await self._send_media(params, files, "document")

    async def _m_sendPhoto(self, params, files):
        return await self._send_media(params, files, "photo")

    async def _m_sendVoice(self, params, files):
        return await self._send_media(params, files, "voice")

    def _existing(self, params) -> tuple[tuple[int, int], dict[str, Any]]:
        if params.get("inline_message_id"):
            raise BotAPIError(400, "Bad Request: MESSAGE_ID_INVALID")
        self._require(params, "chat_id", "message_id")
        key = (params["chat_id"], params["message_id"])
        with self._cond:
            message = self._messages.get(key)
        if message is None:
            raise BotAPIError(400, "Bad Request: message to edit not found")
        return key, message

    async def _m_editMessageText(self, params, files):
        self._require(params, "text")
        key, message = self._existing(params)
        self._check_text(params["text"], params.get("parse_mode"), MAX_TEXT)
        self._check_markup(params)
        markup = params.get("reply_markup")
        if message.get("text") == params["text"] and message.get("reply_markup") == markup:
            raise BotAPIError(400, "Bad Request: message is not modified: specified new message content and reply "
                                   "markup are exactly the same as a current content and reply markup of the message")
        edited = {**message, "text": params["text"], "edit_date": int(time.time())}
        edited.pop("reply_markup", None)
        if markup:
            edited["reply_markup"] = markup
        with self._cond:
            self._messages[key] = edited
        return edited

    async def _m_editMessageReplyMarkup(self, params, files):
        key, message = self._existing(params)
        self._check_markup(params)
        markup = params.get("reply_markup")
        if message.get("reply_markup") == markup or (not markup and not message.get("reply_markup")):
            raise BotAPIError(400, "Bad Request: message is not modified")
        edited = {**message, "edit_date": int(time.time())}
        edited.pop("reply_markup", None)
        if markup and markup.get("inline_keyboard"):
            edited["reply_markup"] = markup
        with self._cond:
            self._messages[key] = edited
        return edited

    async def _m_deleteMessage(self, params, files):
        key, _ = self._existing(params)
        with self._cond:
            del self._messages[key]
        return True

    async def _m_answerCallbackQuery(self, params, files):
        self._require(params, "callback_query_id")
        query_id = params["callback_query_id"]
        with _lock:
            issued = query_id in _issued_callbacks
        if not issued or query_id in self._answered_callbacks:
            raise BotAPIError(400, "Bad Request: query is too old and response timeout expired or query ID is "
                                   "invalid")
        self._answered_callbacks.add(query_id)  # a query is answered once
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise BotAPIError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _m_getFile(self, params, files):
        self._require(params, "file_id")
        with self._cond:
            info = self._files.get(params["file_id"])
        if info is None:
            raise BotAPIError(400, "Bad Request: invalid file_id")
        if info["file_size"] > 20 * 1024 * 1024:
            raise BotAPIError(400, "Bad Request: file is too big")
        return info

    async def _m_getUpdates(self, params, files):
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
                if not ready:
                    self._updates_event.clear()
            left = deadline - time.monotonic()
            if ready or left <= 0:
                return ready
            try:
                await asyncio.wait_for(self._updates_event.wait(), timeout=min(left, 0.5))
            except asyncio.TimeoutError:
                pass


# ---------------------------------------------------------------------------------------------------------------
# Update builders

_message_ids = itertools.count(1000)
_callback_ids = itertools.count(1)
_issued_callbacks: set[str] = set()  # ids made by callback_update: the ones answerCallbackQuery accepts
_lock = threading.Lock()


def next_message_id() -> int:
    with _lock:
        return next(_message_ids)


def _private_chat(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")}


def _message(user: dict[str, Any] | None, chat: dict[str, Any] | None, **content: Any) -> dict[str, Any]:
    user = user or USER
    return {"message_id": next_message_id(), "date": BASE_DATE, "chat": chat or _private_chat(user), "from": user,
            **{k: v for k, v in content.items() if v is not None}}


def make_user(user_id: int, first_name: str = "Test", **extra: Any) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, **extra}


def message_update(text: str, *, user: dict[str, Any] | None = None, chat: dict[str, Any] | None = None,
                   reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
    entities = None
    if text.startswith("/"):
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": _message(user, chat, text=text, entities=entities, reply_to_message=reply_to)}


def voice_update(file_id: str, *, duration: int = 3, size: int | None = None, mime_type: str = "audio/ogg",
                 user: dict[str, Any] | None = None, chat: dict[str, Any] | None = None) -> dict[str, Any]:
    voice = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "duration": duration, "mime_type": mime_type}
    if size is not None:
        voice["file_size"] = size
    return {"message": _message(user, chat, voice=voice)}


def video_note_update(file_id: str, *, duration: int = 3, length: int = 240, size: int | None = None,
                      user: dict[str, Any] | None = None) -> dict[str, Any]:
    note = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "length": length, "duration": duration}
    if size is not None:
        note["file_size"] = size
    return {"message": _message(user, None, video_note=note)}


def audio_update(file_id: str, *, duration: int = 3, file_name: str = "audio.mp3", mime_type: str = "audio/mpeg",
                 size: int | None = None, user: dict[str, Any] | None = None) -> dict[str, Any]:
    audio = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "duration": duration, "file_name": file_name,
             "mime_type": mime_type}
    if size is not None:
        audio["file_size"] = size
    return {"message": _message(user, None, audio=audio)}


def photo_update(file_id: str, *, caption: str | None = None, media_group_id: str | None = None,
                 width: int = 800, height: int = 600, user: dict[str, Any] | None = None,
                 chat: dict[str, Any] | None = None) -> dict[str, Any]:
    sizes = [{"file_id": f"{file_id}-thumb", "file_unique_id": f"u-{file_id}-t", "width": width // 10,
              "height": height // 10},
             {"file_id": file_id, "file_unique_id": f"u-{file_id}", "width": width, "height": height}]
    return {"message": _message(user, chat, photo=sizes, caption=caption, media_group_id=media_group_id)}


def document_update(file_id: str, *, file_name: str = "file.pdf", mime_type: str = "application/pdf",
                    caption: str | None = None, media_group_id: str | None = None,
                    user: dict[str, Any] | None = None, chat: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_name": file_name, "mime_type": mime_type}
    return {"message": _message(user, chat, document=doc, caption=caption, media_group_id=media_group_id)}


def callback_update(data: str, *, message: dict[str, Any], user: dict[str, Any] | None = None) -> dict[str, Any]:
    """A button press on ``message`` (a message the bot sent, e.g. ``call.result`` of its sendMessage)."""
    user = user or USER
    with _lock:
        query_id = f"cbq-{next(_callback_ids)}"
        _issued_callbacks.add(query_id)
    return {"callback_query": {"id": query_id, "from": user, "message": message, "chat_instance": "ci-1",
                               "data": data}}


# ---------------------------------------------------------------------------------------------------------------
# aiogram glue


def make_bot(api: FakeBotAPI, token: str | None = None):
    """An aiogram Bot whose session talks to ``api``; create it inside the event loop that will use it."""
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    session = AiohttpSession(api=TelegramAPIServer.from_base(api.url))
    return Bot(token or api.token, session=session)


class BotRunner:
    """``dispatcher.start_polling`` in a background thread with its own event loop (signals left alone)."""

    def __init__(self, dispatcher, bot_factory: Callable[[], Any], **polling: Any) -> None:
        self.dispatcher = dispatcher
        self.bot_factory = bot_factory
        self.polling = {"polling_timeout": 1, "handle_signals": False, "close_bot_session": True, **polling}
        self.loop = asyncio.new_event_loop()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bot-polling", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._poll())
        except BaseException as exc:  # surfaced by stop()
            self.error = exc
        finally:
            self.loop.run_until_complete(asyncio.sleep(0.05))  # lets a waiting stop_polling() return
            self.loop.close()

    async def _poll(self) -> None:
        self.bot = self.bot_factory()
        await self.dispatcher.start_polling(self.bot, **self.polling)

    async def _stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # polling had not started yet
            await self.dispatcher.stop_polling()

    def start(self) -> BotRunner:
        self._thread.start()
        return self

    def run(self, coro, timeout: float = 30.0):
        """Run a coroutine on the polling loop (e.g. a call with the polling bot) and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        if self._thread.is_alive():
            # not waited on here: polling ends, then the thread, which is what is joined
            asyncio.run_coroutine_threadsafe(self._stop(), self.loop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"polling did not stop within {timeout}s")
        if self.error is not None:
            raise self.error


@pytest.fixture
def fake_bot_api():
    api = FakeBotAPI().start()
    yield api
    api.stop()


# ---------------------------------------------------------------------------------------------------------------
# The bot service of telegram_intel/bot against the fake API


@dataclass
class BotHarness:
    """A running bot service: ``ctx`` (BotContext), ``dispatcher``, ``runner`` (BotRunner), ``health_url``."""

    api: FakeBotAPI
    ctx: Any
    dispatcher: Any
    runner: BotRunner
    health_url: str
    _health: Any = None

    def send(self, update: dict[str, Any]) -> dict[str, Any]:
        return self.api.push_update(update)

    def get(self, path: str) -> tuple[int, bytes]:
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(self.health_url + path, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def metrics(self) -> dict[str, dict[tuple, float]]:
        """/metrics parsed with prometheus_client's parser: {sample name: {labels as sorted tuple: value}}."""
        from prometheus_client.parser import text_string_to_metric_families

        status, body = self.get("/metrics")
        assert status == 200, body
        out: dict[str, dict[tuple, float]] = {}
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
        return out

    def stop(self) -> None:
        try:
            if self._health is not None:
                self.runner.run(self._health.cleanup())
        finally:
            self.runner.stop()


@pytest.fixture
def bot_harness(fake_bot_api, engine):
    """``start(features=("persona",), extra_routers=(), voice=..., persona=..., **settings)`` runs the bot service
    (telegram_intel.bot.app.build_dispatcher) polling ``fake_bot_api``, with /health and /metrics on a free port;
    stopped after the test."""
    started: list[BotHarness] = []

    def start(*, features: tuple[str, ...] = ("persona",), extra_routers: tuple = (), **kwargs: Any) -> BotHarness:
        from telegram_intel.bot.app import BotSettings, build_context, build_dispatcher, start_health_server

        services = {k: kwargs.pop(k) for k in list(kwargs) if k in ("voice", "persona", "extras")}
        settings = BotSettings(token=fake_bot_api.token, api_url=fake_bot_api.url, features=features,
                               metrics_port=0, **kwargs)
        ctx = build_context(settings, engine, **services.pop("extras", {}), **services)
        dp = build_dispatcher(settings, ctx=ctx, extra_routers=extra_routers)
        runner = BotRunner(dp, lambda: make_bot(fake_bot_api)).start()
        health, port = runner.run(start_health_server(ctx, "127.0.0.1", 0))
        harness = BotHarness(fake_bot_api, ctx, dp, runner, f"http://127.0.0.1:{port}", health)
        started.append(harness)
        fake_bot_api.wait_for("setMyCommands", timeout=30)  # startup (features' setup) finished
        return harness

    yield start
    for harness in started:
        harness.stop()


def ogg_opus(path) -> bytes:
    """An audio file re-encoded the way Telegram stores voice messages (OGG container, Opus, mono 48 kHz)."""
    import io

    import av

    out_buf = io.BytesIO()
    with av.open(str(path)) as src, av.open(out_buf, "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        for frame in src.decode(audio=0):
            for resampled in resampler.resample(frame):
                out.mux(stream.encode(resampled))
        for resampled in resampler.resample(None) or []:
            out.mux(stream.encode(resampled))
        out.mux(stream.encode(None))
    return out_buf.getvalue()
