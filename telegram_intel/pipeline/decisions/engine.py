"""``DecisionEngine``: one incoming unit → at most one decision → at most one run of each action.

Order of work for ``submit(unit)``:
1. refuse senders who opted out or were erased (``pipeline/privacy.py``): nothing is stored about them;
2. claim the unit's idempotency key — ``INSERT … ON CONFLICT DO NOTHING`` on the unique ``decisions.idempotency_key``
   — so a re-delivered update or a second part of an album gets ``duplicate`` and nothing else happens;
3. validate the files (kind, declared and sniffed MIME type, size) and keep the images under the storage folder;
4. route: primary endpoint → fallback endpoint → offline rules (``providers.py``), images to the vision model;
5. below the confidence threshold (or when the router chose to ask) store the question and return it (the bot sends
   it with buttons; ``choose`` / ``answer`` continue the conversation);
6. plan the action's payload and store it as a ``decision_outcomes`` row (unique per decision and action);
7. per mode: ``dry_run`` stops there, ``approve`` waits for ``approve``/``reject``, ``act`` runs it now: the outcome
   row is claimed atomically (``pending|failed → running``), then the action is executed with tenacity retries and
   exponential backoff for transient errors, and the result or error is stored.

Every step writes the audit row; message text is never logged and is stored only inside action payloads and open
conversations (which the action or the question needs).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Engine
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from telegram_intel.db.decision_models import DecisionAlbumPart, DecisionConversation, DecisionOutcome, DecisionRow
from telegram_intel.lib.decisions import (
    ASK_FOLLOWUP,
    IncomingUnit,
    MediaItem,
    MediaRejected,
    MessagePart,
    check_content,
    chosen_decision,
    image_data_url,
    needs_followup,
    validate_media,
)
from telegram_intel.pipeline.decisions.actions import (
    ActionError,
    ActionRegistry,
    ExecContext,
    PlanContext,
    StoredMedia,
)
from telegram_intel.pipeline.decisions.config import DecisionSettings
from telegram_intel.pipeline.decisions.providers import ProviderChain

log = logging.getLogger(__name__)

MAX_VISION_IMAGES = 4
_EXT = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf",
        "video/mp4": ".mp4", "video/quicktime": ".mov"}


@dataclass
class Outcome:
    """What happened to a unit, for the caller to tell the user.

    ``kind``: duplicate | refused | followup | approval | dry_run | done | failed | rejected | stale."""

    kind: str
    decision_id: int | None = None
    action: str | None = None
    message: str = ""
    options: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None


def _unit_json(unit: IncomingUnit) -> dict[str, Any]:
    return {"chat_id": unit.chat_id, "message_ids": list(unit.message_ids), "sender_id": unit.sender_id,
            "text": unit.text, "media": [m.as_dict() for m in unit.media], "media_group_id": unit.media_group_id,
            "source": unit.source}


def _unit_from_json(data: Mapping[str, Any]) -> IncomingUnit:
    return IncomingUnit(chat_id=int(data["chat_id"]), message_ids=tuple(data["message_ids"]),
                        sender_id=data.get("sender_id"), text=data.get("text") or "",
                        media=tuple(MediaItem.from_dict(m) for m in data.get("media") or ()),
                        media_group_id=data.get("media_group_id"), source=data.get("source") or "bot")


class DecisionEngine:
    def __init__(self, engine: Engine, settings: DecisionSettings, *, chain: ProviderChain | None = None,
                 registry: ActionRegistry | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.engine = engine
        self.settings = settings
        self.chain = chain if chain is not None else ProviderChain()
        self.registry = registry if registry is not None else ActionRegistry(settings)
        self._sleep = sleep

    # -- albums ------------------------------------------------------------------------------------------------

    def record_album_part(self, part: MessagePart) -> bool:
        """Keep one part of an album (idempotent); True when it was new."""
        if not part.media_group_id:
            raise ValueError("record_album_part: the message is not part of an album")
        stmt = (pg_insert(DecisionAlbumPart)
                .values(chat_id=part.chat_id, media_group_id=part.media_group_id, message_id=part.message_id,
                        part=part.as_dict())
                .on_conflict_do_nothing().returning(DecisionAlbumPart.message_id))
        with self.engine.begin() as conn:
            return conn.execute(stmt).first() is not None

    def album_parts(self, chat_id: int, media_group_id: str) -> list[MessagePart]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(DecisionAlbumPart.part).where(
                DecisionAlbumPart.chat_id == chat_id, DecisionAlbumPart.media_group_id == media_group_id,
            ).order_by(DecisionAlbumPart.message_id)).scalars().all()
        return [MessagePart.from_dict(r) for r in rows]

    def pending_albums(self) -> list[tuple[int, str]]:
        """Albums with stored parts and no decision yet (e.g. the process stopped inside the debounce window)."""
        with self.engine.connect() as conn:
            return [(int(c), str(g)) for c, g in conn.execute(sa.text(
                "SELECT DISTINCT chat_id, media_group_id FROM decision_album_parts ORDER BY 1, 2"))]

    def decided(self, unit: IncomingUnit) -> bool:
        """Whether the unit's key was claimed already (callers skip downloading a re-delivered unit's files); its
        stored album parts are dropped then, as ``submit`` would."""
        with self.engine.begin() as conn:
            found = conn.execute(sa.select(DecisionRow.id).where(DecisionRow.idempotency_key == unit.key)).first()
            if found is not None and unit.media_group_id:
                conn.execute(sa.delete(DecisionAlbumPart).where(
                    DecisionAlbumPart.chat_id == unit.chat_id,
                    DecisionAlbumPart.media_group_id == unit.media_group_id))
        return found is not None

    # -- the main path -------------------------------------------------------------------------------------------

    def submit(self, unit: IncomingUnit, contents: Mapping[str, bytes] | None = None) -> Outcome:
        """Decide and (per mode) act on ``unit``; ``contents`` maps ``file_unique_id`` to the downloaded bytes of
        the files the caller fetched (images, for vision and product photos)."""
        if self._opted_out(unit.sender_id):
            return Outcome("refused", message="This sender has opted out; nothing was stored.")
        try:
            validate_media(unit.media, self.settings.media_policy)
            media_error = None
        except MediaRejected as error:
            media_error = str(error)
        decision_id, existing_status = self._claim(unit)
        if decision_id is None or existing_status is not None:
            return Outcome("duplicate", decision_id, message=f"Already handled ({existing_status}).")
        if media_error is None:
            try:
                stored = self._store_media(unit, contents or {})
            except MediaRejected as error:
                media_error = str(error)
        if media_error is not None:
            self._update(decision_id, status="refused", error=media_error)
            return Outcome("refused", decision_id, message=f"File refused: {media_error}")
        return self._decide(decision_id, unit, stored)

    def _opted_out(self, sender_id: int | None) -> bool:
        if sender_id is None:
            return False
        with self.engine.connect() as conn:
            return bool(conn.execute(sa.text(
                "SELECT EXISTS (SELECT 1 FROM telegram_users WHERE user_id = :u AND is_ignored) "
                "OR EXISTS (SELECT 1 FROM erased_users WHERE user_id = :u)"), {"u": sender_id}).scalar())

    def _claim(self, unit: IncomingUnit) -> tuple[int | None, str | None]:
        """(new decision id, None), or (existing id, its status) when the key was claimed before."""
        key = unit.key
        insert = (pg_insert(DecisionRow).values(
            idempotency_key=key, chat_id=unit.chat_id, message_ids=list(unit.message_ids),
            media_group_id=unit.media_group_id, sender_id=unit.sender_id, source=unit.source, status="deciding",
            mode=self.settings.mode, unit=unit.describe(),
            text_sha256=hashlib.sha256(unit.text.encode("utf-8")).hexdigest() if unit.text else None,
        ).on_conflict_do_nothing(index_elements=None, constraint="uq_decisions_idempotency_key")
            .returning(DecisionRow.id))
        with self.engine.begin() as conn:
            new_id = conn.execute(insert).scalar()
            if unit.media_group_id:  # the album is decided (now or before): its parts are no longer needed
                conn.execute(sa.delete(DecisionAlbumPart).where(
                    DecisionAlbumPart.chat_id == unit.chat_id,
                    DecisionAlbumPart.media_group_id == unit.media_group_id))
            if new_id is not None:
                return int(new_id), None
            row = conn.execute(sa.select(DecisionRow.id, DecisionRow.status).where(
                DecisionRow.idempotency_key == key)).one()
            return int(row.id), str(row.status)

    def _store_media(self, unit: IncomingUnit, contents: Mapping[str, bytes]) -> list[StoredMedia]:
        stored = []
        root = Path(self.settings.media_dir)
        for item in unit.media:
            data = contents.get(item.file_unique_id)
            if data is None:
                continue  # not downloaded (video, large documents): decided on its description only
            mime = check_content(item, data, self.settings.media_policy)
            sha = hashlib.sha256(data).hexdigest()
            path = root / sha[:2] / f"{sha}{_EXT.get(mime, '')}"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + ".part")
                tmp.write_bytes(data)
                tmp.replace(path)
            stored.append(StoredMedia(str(path), mime, sha, len(data), item.file_name, item.kind))
        return stored

    def _update(self, decision_id: int, conn: Connection | None = None, **values: Any) -> None:
        stmt = sa.update(DecisionRow).where(DecisionRow.id == decision_id).values(updated_at=sa.func.now(), **values)
        if conn is not None:
            conn.execute(stmt)
            return
        with self.engine.begin() as c:
            c.execute(stmt)

    def _decide(self, decision_id: int, unit: IncomingUnit, stored: Sequence[StoredMedia],
                forced: str | None = None) -> Outcome:
        offered = [self.registry.get(forced)] if forced else self.registry.offered()
        images = [image_data_url(m.mime, Path(m.path).read_bytes())
                  for m in stored if m.mime.startswith("image/")][:MAX_VISION_IMAGES]
        routed = self.chain.route(unit, offered, images=images, tags={"decision_id": decision_id})
        decision = routed.decision
        if forced and decision.action != forced:  # the offline router had no rule for the user's choice
            decision = chosen_decision(unit, forced)
        with self.engine.begin() as conn:
            self._update(decision_id, conn, action=decision.action, confidence=decision.confidence,
                         arguments=decision.arguments, rationale=decision.rationale[:1000], method=decision.method,
                         providers=routed.attempts,
                         prompt_tokens=DecisionRow.prompt_tokens + routed.prompt_tokens,
                         completion_tokens=DecisionRow.completion_tokens + routed.completion_tokens,
                         cost_usd=DecisionRow.cost_usd + routed.cost_usd)
            if forced is None and needs_followup(decision, self.settings.threshold):
                return self._ask(conn, decision_id, unit, stored, decision)
            conn.execute(sa.delete(DecisionConversation).where(DecisionConversation.decision_id == decision_id))
        action = self.registry.get(decision.action)
        with self.engine.connect() as conn:
            created_at = conn.execute(sa.select(DecisionRow.created_at).where(DecisionRow.id == decision_id)).scalar()
        payload = action.plan(PlanContext(decision, unit.key, decision_id, created_at, unit.text, tuple(stored)))
        status = "dry_run" if self.settings.mode == "dry_run" else "pending"
        with self.engine.begin() as conn:
            outcome_id = conn.execute(
                pg_insert(DecisionOutcome)
                .values(decision_id=decision_id, action=action.name, status=status, payload=payload)
                .on_conflict_do_nothing(constraint="uq_decision_outcomes_decision_action")
                .returning(DecisionOutcome.id)).scalar()
            if outcome_id is None:
                return Outcome("duplicate", decision_id, action.name, "This action was already planned.")
            summary = action.summary(payload)
            if self.settings.mode == "dry_run":
                self._update(decision_id, conn, status="dry_run")
                return Outcome("dry_run", decision_id, action.name, f"Dry run — would do: {summary}.")
            if self.settings.mode == "approve" and action.side_effects:
                self._update(decision_id, conn, status="awaiting_approval")
                return Outcome("approval", decision_id, action.name, f"Shall I do this? {summary}.")
            self._update(decision_id, conn, status="acting")
        return self.run_outcome(outcome_id)

    def _ask(self, conn: Connection, decision_id: int, unit: IncomingUnit, stored: Sequence[StoredMedia],
             decision: Any) -> Outcome:
        choices = [a.name for a in self.registry.offered() if a.name != ASK_FOLLOWUP]
        if decision.action == ASK_FOLLOWUP:
            question = str(decision.arguments.get("question") or "What should I do with this?")
            options = [o for o in decision.arguments.get("options") or [] if o in choices] or choices
        else:
            question = f"Not sure ({decision.confidence:.0%}). What should I do with this?"
            options = [decision.action] + [c for c in choices if c != decision.action]
        context = {"unit": _unit_json(unit), "media": [m.as_dict() for m in stored]}
        stmt = pg_insert(DecisionConversation).values(
            chat_id=unit.chat_id, decision_id=decision_id, step="awaiting_choice", question=question,
            options=options, context=context)
        conn.execute(stmt.on_conflict_do_update(index_elements=["chat_id"], set_={
            "decision_id": stmt.excluded.decision_id, "step": stmt.excluded.step,
            "question": stmt.excluded.question, "options": stmt.excluded.options,
            "context": stmt.excluded.context, "updated_at": sa.func.now()}))
        self._update(decision_id, conn, status="needs_followup")
        return Outcome("followup", decision_id, decision.action, question, options)

    # -- the conversation ----------------------------------------------------------------------------------------

    def _open_question(self, chat_id: int, decision_id: int | None = None) -> Mapping[str, Any] | None:
        with self.engine.connect() as conn:
            query = sa.select(DecisionConversation.__table__).where(DecisionConversation.chat_id == chat_id)
            if decision_id is not None:
                query = query.where(DecisionConversation.decision_id == decision_id)
            return conn.execute(query).mappings().first()

    def _reopen(self, decision_id: int) -> bool:
        """needs_followup → deciding, once (two taps on a button run one decision)."""
        with self.engine.begin() as conn:
            return conn.execute(sa.update(DecisionRow).where(
                DecisionRow.id == decision_id, DecisionRow.status == "needs_followup",
            ).values(status="deciding", updated_at=sa.func.now()).returning(DecisionRow.id)).first() is not None

    def choose(self, chat_id: int, decision_id: int, action: str) -> Outcome:
        """The user picked ``action`` (a follow-up button), or ``cancel``."""
        question = self._open_question(chat_id, decision_id)
        if question is None or not self._reopen(decision_id):
            return Outcome("stale", decision_id, message="That question was already answered.")
        if action == "cancel" or action not in (question["options"] or []):
            with self.engine.begin() as conn:
                self._update(decision_id, conn, status="rejected")
                conn.execute(sa.delete(DecisionConversation).where(DecisionConversation.chat_id == chat_id))
            return Outcome("rejected", decision_id, message="Cancelled.")
        unit = _unit_from_json(question["context"]["unit"])
        stored = [StoredMedia(**m) for m in question["context"].get("media") or []]
        return self._decide(decision_id, unit, stored, forced=action)

    def answer(self, chat_id: int, text: str) -> Outcome | None:
        """A text reply to an open question: decided again with the answer added; None when nothing is open."""
        question = self._open_question(chat_id)
        if question is None or question["step"] != "awaiting_choice" or not self._reopen(question["decision_id"]):
            return None
        unit = _unit_from_json(question["context"]["unit"])
        unit = IncomingUnit(**{**unit.__dict__, "text": f"{unit.text}\n{text}".strip()})
        stored = [StoredMedia(**m) for m in question["context"].get("media") or []]
        return self._decide(question["decision_id"], unit, stored)

    # -- approval and execution ---------------------------------------------------------------------------------

    def approve(self, chat_id: int, decision_id: int) -> Outcome:
        with self.engine.begin() as conn:
            ok = conn.execute(sa.update(DecisionRow).where(
                DecisionRow.id == decision_id, DecisionRow.chat_id == chat_id,
                DecisionRow.status == "awaiting_approval").values(status="acting", updated_at=sa.func.now())
                .returning(DecisionRow.id)).first()
            outcome_id = conn.execute(sa.select(DecisionOutcome.id).where(
                DecisionOutcome.decision_id == decision_id)).scalar() if ok else None
        if outcome_id is None:
            return Outcome("stale", decision_id, message="Nothing is waiting for approval there.")
        return self.run_outcome(outcome_id)

    def reject(self, chat_id: int, decision_id: int) -> Outcome:
        with self.engine.begin() as conn:
            ok = conn.execute(sa.update(DecisionRow).where(
                DecisionRow.id == decision_id, DecisionRow.chat_id == chat_id,
                DecisionRow.status == "awaiting_approval").values(status="rejected", updated_at=sa.func.now())
                .returning(DecisionRow.id)).first()
            if ok:
                conn.execute(sa.update(DecisionOutcome).where(DecisionOutcome.decision_id == decision_id)
                             .values(status="cancelled", updated_at=sa.func.now(), finished_at=sa.func.now()))
        if not ok:
            return Outcome("stale", decision_id, message="Nothing is waiting for approval there.")
        return Outcome("rejected", decision_id, message="Rejected; nothing was done.")

    def run_outcome(self, outcome_id: int) -> Outcome:
        """Run one planned (or failed) action. The row is claimed ``pending|failed → running`` first, so two
        callers (a button tapped twice, the bot and the retry job) never run it twice."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.update(DecisionOutcome).where(
                DecisionOutcome.id == outcome_id, DecisionOutcome.status.in_(("pending", "failed")),
            ).values(status="running", updated_at=sa.func.now()).returning(
                DecisionOutcome.decision_id, DecisionOutcome.action, DecisionOutcome.payload,
                DecisionOutcome.attempts)).first()
            if row is None:
                current = conn.execute(sa.select(DecisionOutcome.decision_id, DecisionOutcome.action,
                                                 DecisionOutcome.status).where(DecisionOutcome.id == outcome_id)).first()
                return Outcome("duplicate", current.decision_id if current else None,
                               current.action if current else None,
                               f"Already {current.status if current else 'gone'}.")
            key = conn.execute(sa.select(DecisionRow.idempotency_key).where(
                DecisionRow.id == row.decision_id)).scalar_one()
            self._update(row.decision_id, conn, status="acting")
        action = self.registry.get(row.action)
        ctx = ExecContext(decision_id=row.decision_id, key=key, llm=self.chain,
                          tags={"decision_id": row.decision_id, "action": row.action})
        attempts = 0
        result: dict[str, Any] | None = None
        error: str | None = None
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self.settings.action_attempts),
                wait=wait_exponential(multiplier=self.settings.backoff_base_s, max=self.settings.backoff_max_s),
                retry=retry_if_exception(lambda e: isinstance(e, ActionError) and e.transient),
                reraise=True, sleep=self._sleep,
            ):
                with attempt:
                    attempts += 1
                    result = action.execute(row.payload, ctx)
        except ActionError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug in an action must still leave a visible failed outcome
            log.exception("action %s of decision %s crashed", row.action, row.decision_id)
            error = f"{row.action}: unexpected {type(exc).__name__}"
        status = "failed" if error else "succeeded"
        with self.engine.begin() as conn:
            conn.execute(sa.update(DecisionOutcome).where(DecisionOutcome.id == outcome_id).values(
                status=status, attempts=DecisionOutcome.attempts + attempts, result=result, error=error,
                updated_at=sa.func.now(), finished_at=sa.func.now()))
            self._update(row.decision_id, conn, status="done" if not error else "failed", error=error)
        if error:
            log.warning("action %s of decision %s failed after %d attempt(s)", row.action, row.decision_id, attempts)
            return Outcome("failed", row.decision_id, row.action, f"Failed: {error}", result=None)
        return Outcome("done", row.decision_id, row.action, _done_message(row.action, result or {}), result=result)

    def retry_failed(self, *, limit: int = 100) -> dict[str, Any]:
        """Run failed outcomes again (oldest first); their decisions were approved or in act mode before."""
        with self.engine.connect() as conn:
            ids = conn.execute(sa.select(DecisionOutcome.id).join(DecisionRow).where(
                DecisionOutcome.status == "failed", DecisionRow.status == "failed",
            ).order_by(DecisionOutcome.id).limit(limit)).scalars().all()
        kinds: dict[str, int] = {}
        for outcome_id in ids:
            kind = self.run_outcome(outcome_id).kind
            kinds[kind] = kinds.get(kind, 0) + 1
        return {"retried": len(ids), "succeeded": kinds.get("done", 0), "failed_again": kinds.get("failed", 0),
                "skipped": kinds.get("duplicate", 0)}


def forget_sender(engine: Engine, user_id: int) -> dict[str, int]:
    """Delete what the engine keeps about a sender: their decisions (outcomes and open questions go with them) and
    album parts still waiting. External records (products, rows) are the shop's and the spreadsheet's."""
    with engine.begin() as conn:
        parts = conn.execute(sa.text("DELETE FROM decision_album_parts WHERE (part->>'sender_id')::bigint = :u"),
                             {"u": user_id}).rowcount
        decisions = conn.execute(sa.text("DELETE FROM decisions WHERE sender_id = :u"), {"u": user_id}).rowcount
    return {"decisions": decisions, "decision_album_parts": parts}


def purge_opted_out(conn: Connection) -> dict[str, int]:
    """Decisions (with outcomes and open questions) and waiting album parts of senders who opted out; run by
    ``pipeline/privacy.py`` when someone opts out."""
    decisions = conn.execute(sa.text(
        "DELETE FROM decisions d USING telegram_users u WHERE u.user_id = d.sender_id AND u.is_ignored")).rowcount
    parts = conn.execute(sa.text(
        "DELETE FROM decision_album_parts p USING telegram_users u "
        "WHERE u.user_id = (p.part->>'sender_id')::bigint AND u.is_ignored")).rowcount
    return {"decisions": decisions, "decision_album_parts": parts}


def _done_message(action: str, result: Mapping[str, Any]) -> str:
    if "product_id" in result:
        reused = " (already existed)" if result.get("reused") else ""
        return f"Draft product {result['product_id']} created{reused}, SKU {result.get('sku')}."
    if result.get("backend") in ("xlsx", "graph"):
        return f"Row added to the {result['backend']} spreadsheet."
    if "text" in result:
        return str(result["text"])
    return f"{action}: done."
