"""The MCP server: read-only tools over what telegram_intel derives (profiles with evidence, the knowledge graph,
statistics, grounded answers), built on the official ``mcp`` SDK's :class:`MCPServer`.

Tools: ``search_messages``, ``get_message``, ``list_people``, ``get_profile``, ``graph_neighbours``,
``chat_statistics``, ``ask``. Message text is the cleaned corpus (PII masked; people's names restored for the
owner); people who opted out or were forgotten never appear: not as hits, senders, profiles, neighbours or
counted top senders. Nothing writes.

Transports: stdio (``run_stdio``), and streamable HTTP (``http_app`` / :class:`HTTPServer`), where every request
must carry ``Authorization: Bearer <token>`` (compared in constant time; 401 otherwise) and, on loopback, name a
loopback Host (the SDK's DNS-rebinding protection).
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from sqlalchemy.engine import Engine

from telegram_intel.pipeline import archive_queries as archive
from telegram_intel.pipeline import contacts as Q
from telegram_intel.pipeline import search as hybrid
from telegram_intel.pipeline.ask import AskFilters, Asker, message_link
from telegram_intel.pipeline.expertise import user_connections, user_expertise
from telegram_intel.web.server import UvicornServer

__all__ = ["HTTPServer", "build_server", "http_app"]

log = logging.getLogger(__name__)
INSTRUCTIONS = (
    "Read-only access to the owner's Telegram knowledge base: hybrid search over cleaned messages (PII masked), "
    "messages with context, people's likely jobs/sectors ('AI guess' with confidence and evidence messages), "
    "knowledge-graph neighbours, chat statistics and grounded answers with citations. Cite messages by chat_id "
    "and message_id. Profiles are guesses inferred from messages, not facts."
)
MAX_LIMIT = 100


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ToolError(f"{name} must be a date like 2026-03-01, not {value!r}") from None


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


class Tools:
    """The tool bodies (plain methods, so the CLI, tests and the SDK call the same code)."""

    def __init__(self, engine: Engine, *, embedder: Callable[[], Any] | None = None,
                 llm: Callable[[], Any] | None = None, names: Any = None, model_key: str | None = None) -> None:
        self.engine = engine
        self._embedder_fn = embedder
        self._llm_fn = llm
        self._lock = threading.Lock()
        self._asker: Asker | None = None
        self.names = names
        self.model_key = model_key

    def asker(self) -> Asker:
        with self._lock:
            if self._asker is None:
                embedder = self._embedder_fn() if self._embedder_fn else None
                llm = self._llm_fn() if self._llm_fn else None
                self._asker = Asker(self.engine, embedder, llm=llm, names=self.names,
                                    model_key=self.model_key or (embedder.name if embedder is not None else None))
            return self._asker

    def close(self) -> None:
        if self._asker is not None and self._asker.llm is not None:
            self._asker.llm.close()

    # -- helpers ----------------------------------------------------------------------------------------------
    def _hidden(self, user_ids: list[int | None]) -> set[int]:
        return self.asker().hidden_senders(user_ids)

    def _user_id(self, person: str | int) -> int:
        """A visible user's id for an id, @username or display name; opted-out and unknown people alike are
        'not found' (an opted-out person's existence is not confirmed either)."""
        s = str(person).strip()
        rows = archive.visible_user_ids(self.engine, s)
        if len(rows) != 1:
            raise ToolError(f"no person matches {s!r}" if not rows else
                            f"{len(rows)} people match {s!r}; give the user id")
        return int(rows[0])

    def _restore(self, texts: list[str], keys: list[tuple[int, int]]) -> list[str]:
        return self.names.restore(self.engine, texts, keys) if self.names is not None else texts

    # -- tools ------------------------------------------------------------------------------------------------
    def search_messages(self, query: str, chat: str | None = None, person: str | None = None,
                        since: str | None = None, until: str | None = None, topic: int | None = None,
                        limit: int = 10) -> dict[str, Any]:
        limit = max(1, min(MAX_LIMIT, int(limit)))
        until_d = _date(until, "until")
        try:
            passages = self.asker().retrieve(query, AskFilters(chat=chat or None, user=person or None,
                                                               since=_date(since, "since"),
                                                               until=until_d + timedelta(days=1) if until_d else None,
                                                               topic=topic), limit=limit)
        except hybrid.SearchError as exc:
            raise ToolError(str(exc)) from exc
        usernames = self._chat_usernames([p.chat_id for p in passages])
        return {"hits": [{"chat_id": p.chat_id, "message_id": p.message_id, "chat_title": p.chat_title,
                          "date": _iso(p.date), "sender_name": p.sender_name, "text": p.text,
                          "similarity": None if p.similarity is None else round(p.similarity, 4),
                          "link": message_link(p.chat_id, p.message_id, usernames.get(p.chat_id))}
                         for p in passages]}

    def _chat_usernames(self, chat_ids: list[int]) -> dict[int, str | None]:
        return archive.chat_usernames(self.engine, chat_ids)

    def get_message(self, chat_id: int, message_id: int, context: int = 5) -> dict[str, Any]:
        context = max(0, min(25, int(context)))
        rows = Q.messages(self.engine, int(chat_id), around=int(message_id), limit=2 * context + 2)
        target = next((r for r in rows if r["message_id"] == int(message_id)), None)
        if target is None or target["hidden"]:
            raise ToolError(f"no message {message_id} in chat {chat_id}")
        # the cleaned text (PII masked), names restored; people who opted out are left out entirely
        shown = [r for r in rows if not r["hidden"] and self._visible_sender(r)]
        shown.sort(key=lambda r: (r["date"], r["message_id"]))
        keys = [(r["chat_id"], r["message_id"]) for r in shown]
        texts = self._restore([r["clean_text"] or "" for r in shown], keys)
        chat = Q.chat(self.engine, int(chat_id)) or {}
        out = []
        for r, text in zip(shown, texts):
            transcript = (r.get("transcript") or {}).get("text") if r.get("transcript") else None
            out.append({"chat_id": r["chat_id"], "message_id": r["message_id"], "date": _iso(r["date"]),
                        "sender_name": r["sender"], "text": text or None, "in_corpus": bool(r["cleaned"]),
                        "has_media": bool(r["has_media"]), "media_type": r["media_type"],
                        "voice_transcript_in_text": bool(transcript) and bool(r["cleaned"]),
                        "summary": r["ai_summary"] if r["summary_state"] == "shown" else None,
                        "is_target": r["message_id"] == int(message_id)})
        return {"chat_id": int(chat_id), "chat_title": chat.get("title"),
                "link": message_link(int(chat_id), int(message_id), chat.get("username")), "messages": out}

    def _visible_sender(self, row: dict[str, Any]) -> bool:
        return row["sender_id"] is None or row["sender_id"] not in self._hidden([row["sender_id"]])

    def list_people(self, job: str | None = None, sector: str | None = None, min_confidence: int = 0,
                    name: str | None = None, limit: int = 50) -> dict[str, Any]:
        rows = Q.people(self.engine, Q.PeopleFilter(job=job or None, sector=sector or None,
                                                     min_confidence=max(0, min(100, int(min_confidence))),
                                                     q=name or None), limit=max(1, min(500, int(limit))))
        people = []
        for r in rows:
            if r["is_ignored"]:
                continue
            people.append({"user_id": r["user_id"], "name": r["name"], "username": r["username"],
                           "job": r["job"], "sector": r["eff_sector"],
                           "confidence": None if r["manual_override"] else r["confidence"],
                           "label": "manual" if r["manual_override"] else ("AI guess" if r["job"] else None),
                           "status": r["status"] or "not analyzed yet"})
        return {"people": people}

    def get_profile(self, person: str) -> dict[str, Any]:
        uid = self._user_id(person)
        detail = Q.person(self.engine, uid)
        if detail is None or detail["user"]["is_ignored"]:
            raise ToolError(f"no person matches {person!r}")
        u = detail["user"]
        profile = self.asker().people(user_ids=[uid], evidence=5)
        return {"user_id": uid, "name": u["display_name"], "username": u["username"],
                "groups": [{"chat_id": g["chat_id"], "title": g["title"], "messages": g["messages"]}
                           for g in detail["groups"]],
                "profile": profile[0] if profile else None,
                "status": (detail["profile"] or {}).get("status") or "not analyzed yet",
                "expertise": [{"kind": e.kind, "name": e.name, "messages": e.messages}
                              for e in user_expertise(self.engine, uid, top=10)]}

    def graph_neighbours(self, entity: str, kind: str | None = None, limit: int = 20) -> dict[str, Any]:
        limit = max(1, min(MAX_LIMIT, int(limit)))
        if kind in (None, "", "person", "user"):
            try:
                uid = self._user_id(entity)
            except ToolError:
                if kind in ("person", "user"):
                    raise
                uid = None
            if uid is not None:
                people = [c for c in user_connections(self.engine, uid, top=limit)
                          if c.user_id not in self._hidden([c.user_id])]
                names = self._user_names([c.user_id for c in people])
                return {"node": {"kind": "person", "user_id": uid},
                        "discusses": [{"kind": e.kind, "name": e.name, "messages": e.messages, "weight": round(e.weight, 3)}
                                      for e in user_expertise(self.engine, uid, top=limit)],
                        "people": [{"user_id": c.user_id, "name": names.get(c.user_id, c.label),
                                    "replies_to": c.replies_to, "replies_from": c.replies_from,
                                    "mentions_to": c.mentions_to, "mentions_from": c.mentions_from} for c in people]}
        found = archive.entity_neighbours(self.engine, entity, kind, limit)
        if found is None:
            raise ToolError(f"no entity or person matches {entity!r}")
        ent, users, related = found
        names = self._user_names([r.src_id for r in users])
        return {"node": {"kind": ent.kind, "name": ent.name},
                "people": [{"user_id": r.src_id, "name": names.get(r.src_id), "messages": r.evidence_count,
                            "weight": round(float(r.weight), 3)} for r in users],
                "related": [{"kind": r.kind, "name": r.name, "relation": r.relation, "messages": r.evidence_count}
                            for r in related]}

    def _user_names(self, ids: list[int]) -> dict[int, str]:
        return archive.user_names(self.engine, ids)

    def chat_statistics(self, chat: str | None = None, since: str | None = None, until: str | None = None,
                        top_senders: int = 5) -> dict[str, Any]:
        since_d, until_d = _date(since, "since"), _date(until, "until")
        with self.engine.connect() as conn:
            try:
                chats = hybrid.resolve_chats(conn, chat) if chat else None
            except hybrid.SearchError as exc:
                raise ToolError(str(exc)) from exc
        rows, senders = archive.chat_activity(self.engine, chats, since_d, until_d, max(0, min(20, int(top_senders))))
        top: dict[int, list[dict[str, Any]]] = {}
        for s in senders:
            top.setdefault(s["chat_id"], []).append({"user_id": s["user_id"], "name": s["name"],
                                                     "messages": int(s["messages"])})
        return {"chats": [{"chat_id": r["chat_id"], "title": r["title"], "type": r["type"],
                           "messages": int(r["messages"]), "media_messages": int(r["media"]),
                           "replies": int(r["replies"]), "active_days": int(r["active_days"]),
                           "first_day": _iso(r["first_day"]), "last_day": _iso(r["last_day"]),
                           "top_senders": top.get(r["chat_id"], [])} for r in rows]}

    def ask(self, question: str, chat: str | None = None, person: str | None = None, since: str | None = None,
            until: str | None = None, topic: int | None = None, method: str = "auto") -> dict[str, Any]:
        until_d = _date(until, "until")
        try:
            answer = self.asker().ask(question, AskFilters(chat=chat or None, user=person or None,
                                                          since=_date(since, "since"),
                                                          until=until_d + timedelta(days=1) if until_d else None,
                                                          topic=topic), method=method)
        except hybrid.SearchError as exc:
            raise ToolError(str(exc)) from exc
        return answer.as_dict()


def build_server(tools: Tools) -> MCPServer:
    """The MCP server with the read-only tools of ``tools``."""
    server = MCPServer("telegram-intel", instructions=INSTRUCTIONS)

    @server.tool(description="Hybrid search (meaning + words, ru/en/tr) over the cleaned messages. Filters: chat "
                             "(id or part of its title), person (user id, @username or display name), since/until "
                             "(YYYY-MM-DD, both days included), topic (forum topic id, where supported).")
    def search_messages(query: str, chat: str | None = None, person: str | None = None, since: str | None = None,
                        until: str | None = None, topic: int | None = None, limit: int = 10) -> dict[str, Any]:
        return tools.search_messages(query, chat, person, since, until, topic, limit)

    @server.tool(description="One message with the messages around it (context each side): cleaned text, sender, "
                             "date, AI summary; people who opted out are left out.")
    def get_message(chat_id: int, message_id: int, context: int = 5) -> dict[str, Any]:
        return tools.get_message(chat_id, message_id, context)

    @server.tool(description="People with their likely job and sector ('AI guess' with a 0-100 confidence; "
                             "'manual' where the owner corrected it). Filters: job, sector, min_confidence, name.")
    def list_people(job: str | None = None, sector: str | None = None, min_confidence: int = 0,
                    name: str | None = None, limit: int = 50) -> dict[str, Any]:
        return tools.list_people(job, sector, min_confidence, name, limit)

    @server.tool(description="A person's profile: groups, likely job/sector with confidence (AI guess), evidence "
                             "messages and what they talk about. person: user id, @username or display name.")
    def get_profile(person: str) -> dict[str, Any]:
        return tools.get_profile(person)

    @server.tool(description="Knowledge-graph neighbours: for a person (id, @username, name), the topics they "
                             "discuss and the people they interact with; for a topic/organization/project, the "
                             "people who discuss it and co-mentioned entities. kind: person, topic, organization, "
                             "project.")
    def graph_neighbours(entity: str, kind: str | None = None, limit: int = 20) -> dict[str, Any]:
        return tools.graph_neighbours(entity, kind, limit)

    @server.tool(description="Per-chat statistics (messages, media, replies, active days, top senders) over a date "
                             "range (since/until YYYY-MM-DD) for all chats or one.")
    def chat_statistics(chat: str | None = None, since: str | None = None, until: str | None = None,
                        top_senders: int = 5) -> dict[str, Any]:
        return tools.chat_statistics(chat, since, until, top_senders)

    @server.tool(description="A grounded answer to a question about the chats: every claim cited by message "
                             "(chat_id, message_id, date, sender, verbatim quote); 'I don't know' when nothing "
                             "relevant is found; questions about who does what are answered from profiles "
                             "(AI guess). method: auto, llm or extractive.")
    def ask(question: str, chat: str | None = None, person: str | None = None, since: str | None = None,
            until: str | None = None, topic: int | None = None, method: str = "auto") -> dict[str, Any]:
        return tools.ask(question, chat, person, since, until, topic, method)

    return server


# ---------------------------------------------------------------------------------------------------------------
# Streamable HTTP with a bearer token


class BearerToken:
    """ASGI middleware: HTTP requests need ``Authorization: Bearer <token>`` (401 with ``WWW-Authenticate``)."""

    def __init__(self, app: Any, token: str) -> None:
        if not token:
            raise ValueError("an access token is required to serve MCP over HTTP")
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            header = dict(scope.get("headers") or []).get(b"authorization", b"")
            scheme, _, given = header.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self._token):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                        (b"www-authenticate", b'Bearer realm="telegram-intel"')]})
                await send({"type": "http.response.body", "body": b"missing or wrong access token\n"})
                return
        await self.app(scope, receive, send)


def http_app(server: MCPServer, *, token: str, host: str = "127.0.0.1", path: str = "/mcp") -> Any:
    """The streamable-HTTP ASGI app behind the token check."""
    return BearerToken(server.streamable_http_app(streamable_http_path=path, host=host), token)


class HTTPServer(UvicornServer):
    """uvicorn serving :func:`http_app` (see :class:`UvicornServer` for binding and threads)."""

    name = "telegram-intel-mcp"

    def __init__(self, server: MCPServer, *, token: str, host: str = "127.0.0.1", port: int = 8766,
                 path: str = "/mcp") -> None:
        import uvicorn

        self.path = path
        self._bind(host, port, 64)
        config = uvicorn.Config(http_app(server, token=token, host=host, path=path), lifespan="on",
                                log_config=None, log_level=logging.WARNING, access_log=False,
                                proxy_headers=False, server_header=False, timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
