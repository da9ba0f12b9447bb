"""The bot service's rows (``db/bot_models.py``): bounded persona memory, replies awaiting a rating, preference
feedback (``persona_feedback``), per-user state, the voice-insight cache with expiry, and ``forget_user``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine

from telegram_intel.db.bot_models import (
    BotPersonaMemory,
    BotPersonaReply,
    BotUser,
    BotVoiceCache,
    PersonaFeedback,
)

USER_TABLES = ("persona_feedback", "bot_persona_memory", "bot_persona_replies", "bot_voice_cache", "bot_users")


def touch_user(engine: Engine, user_id: int) -> None:
    with engine.begin() as conn:
        stmt = insert(BotUser).values(bot_user_id=user_id)
        conn.execute(stmt.on_conflict_do_update(index_elements=["bot_user_id"], set_={"last_seen": sa.func.now()}))


# -- memory ---------------------------------------------------------------------------------------------------


def load_memory(engine: Engine, persona: str, user_id: int, turns: int) -> list[dict[str, str]]:
    """The newest ``turns`` turns, oldest first, as chat messages."""
    if turns <= 0:
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(BotPersonaMemory.role, BotPersonaMemory.content)
            .where(BotPersonaMemory.persona == persona, BotPersonaMemory.bot_user_id == user_id)
            .order_by(BotPersonaMemory.id.desc()).limit(turns)
        ).all()
    return [{"role": r.role, "content": r.content} for r in reversed(rows)]


def append_memory(engine: Engine, persona: str, user_id: int, messages: list[dict[str, str]], turns: int) -> int:
    """Add turns and delete all but the newest ``turns`` of this user (one transaction); returns rows deleted."""
    with engine.begin() as conn:
        if messages:
            conn.execute(sa.insert(BotPersonaMemory), [
                {"persona": persona, "bot_user_id": user_id, "role": m["role"], "content": m["content"]}
                for m in messages])
        keep = sa.select(BotPersonaMemory.id).where(
            BotPersonaMemory.persona == persona, BotPersonaMemory.bot_user_id == user_id
        ).order_by(BotPersonaMemory.id.desc()).limit(max(0, turns))
        return conn.execute(sa.delete(BotPersonaMemory).where(
            BotPersonaMemory.persona == persona, BotPersonaMemory.bot_user_id == user_id,
            BotPersonaMemory.id.not_in(keep))).rowcount


# -- replies and feedback -------------------------------------------------------------------------------------


def save_reply(engine: Engine, *, persona: str, user_id: int, chat_id: int, prompt: list[dict[str, str]],
               reply: str, adapter: str | None, model: str | None, latency_ms: int | None) -> int:
    with engine.begin() as conn:
        return conn.execute(sa.insert(BotPersonaReply).values(
            persona=persona, bot_user_id=user_id, chat_id=chat_id, prompt=prompt, reply=reply, adapter=adapter,
            model=model, latency_ms=latency_ms).returning(BotPersonaReply.id)).scalar_one()


def set_reply_message(engine: Engine, reply_id: int, message_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(BotPersonaReply).where(BotPersonaReply.id == reply_id).values(message_id=message_id))


class FeedbackRefused(LookupError):
    """The reply is unknown (deleted by /forget or expired) or belongs to someone else."""


def rate_reply(engine: Engine, reply_id: int, user_id: int, rating: int) -> tuple[int, bool]:
    """Store (or change) the user's rating of a reply in ``persona_feedback``; returns (feedback id, changed).
    After 👎 the user's next text is taken as the correction (``awaiting_correction``)."""
    if rating not in (1, -1):
        raise ValueError("rating must be +1 or -1")
    with engine.begin() as conn:
        reply = conn.execute(sa.select(BotPersonaReply.__table__).where(BotPersonaReply.id == reply_id)
                             .with_for_update()).one_or_none()
        if reply is None or reply.bot_user_id != user_id:
            raise FeedbackRefused(reply_id)
        feedback_id = reply.feedback_id
        changed = True
        if feedback_id is not None:
            old = conn.execute(sa.select(PersonaFeedback.rating).where(PersonaFeedback.id == feedback_id)).scalar()
            if old is None:
                feedback_id = None
            else:
                changed = old != rating
                conn.execute(sa.update(PersonaFeedback).where(PersonaFeedback.id == feedback_id).values(
                    rating=rating, correction=None if rating == 1 else PersonaFeedback.correction))
        if feedback_id is None:
            feedback_id = conn.execute(sa.insert(PersonaFeedback).values(
                persona=reply.persona, bot_user_id=user_id, prompt=reply.prompt, reply=reply.reply, rating=rating,
                adapter=reply.adapter).returning(PersonaFeedback.id)).scalar_one()
            conn.execute(sa.update(BotPersonaReply).where(BotPersonaReply.id == reply_id)
                         .values(feedback_id=feedback_id))
        stmt = insert(BotUser).values(bot_user_id=user_id, awaiting_correction=feedback_id if rating == -1 else None)
        conn.execute(stmt.on_conflict_do_update(index_elements=["bot_user_id"], set_={
            "awaiting_correction": stmt.excluded.awaiting_correction, "last_seen": sa.func.now()}))
    return feedback_id, changed


def awaiting_correction(engine: Engine, user_id: int) -> int | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(BotUser.awaiting_correction).where(BotUser.bot_user_id == user_id)).scalar()


def clear_awaiting(engine: Engine, user_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(BotUser).where(BotUser.bot_user_id == user_id).values(awaiting_correction=None))


def save_correction(engine: Engine, user_id: int, text: str) -> int | None:
    """The correction for the 👎 the user gave last; returns the feedback id, None when none is awaited."""
    with engine.begin() as conn:
        feedback_id = conn.execute(sa.select(BotUser.awaiting_correction).where(BotUser.bot_user_id == user_id)
                                   .with_for_update()).scalar()
        if feedback_id is None:
            return None
        conn.execute(sa.update(PersonaFeedback).where(PersonaFeedback.id == feedback_id,
                                                      PersonaFeedback.bot_user_id == user_id)
                     .values(correction=text))
        conn.execute(sa.update(BotUser).where(BotUser.bot_user_id == user_id).values(awaiting_correction=None))
    return feedback_id


# -- voice cache ----------------------------------------------------------------------------------------------


def cached_voice(engine: Engine, audio_sha256: str, variant: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(BotVoiceCache.result).where(
            BotVoiceCache.audio_sha256 == audio_sha256, BotVoiceCache.variant == variant,
            BotVoiceCache.expires_at > sa.func.now())).scalar()


def cache_voice(engine: Engine, audio_sha256: str, variant: str, user_id: int | None, result: dict[str, Any],
                hours: float) -> None:
    if hours <= 0:
        return
    expires = datetime.now(timezone.utc) + timedelta(hours=hours)
    with engine.begin() as conn:
        stmt = insert(BotVoiceCache).values(audio_sha256=audio_sha256, variant=variant, bot_user_id=user_id,
                                            result=result, expires_at=expires)
        conn.execute(stmt.on_conflict_do_update(index_elements=["audio_sha256", "variant"], set_={
            "bot_user_id": stmt.excluded.bot_user_id, "result": stmt.excluded.result,
            "created_at": sa.func.now(), "expires_at": stmt.excluded.expires_at}))


# -- retention ------------------------------------------------------------------------------------------------


def purge_expired(engine: Engine, *, memory_days: float) -> dict[str, int]:
    """Delete expired voice results, and memory and unrated replies older than ``memory_days``."""
    cutoff = datetime.now(timezone.utc) - timedelta(days=memory_days)
    with engine.begin() as conn:
        return {
            "bot_voice_cache": conn.execute(sa.delete(BotVoiceCache).where(
                BotVoiceCache.expires_at <= sa.func.now())).rowcount,
            "bot_persona_memory": conn.execute(sa.delete(BotPersonaMemory).where(
                BotPersonaMemory.created_at < cutoff)).rowcount,
            "bot_persona_replies": conn.execute(sa.delete(BotPersonaReply).where(
                BotPersonaReply.created_at < cutoff)).rowcount,
        }


def forget_user(engine: Engine, user_id: int) -> dict[str, int]:
    """Delete every row of ``user_id`` in the bot's tables (one transaction); counts per table."""
    counts = {}
    with engine.begin() as conn:
        for model in (PersonaFeedback, BotPersonaMemory, BotPersonaReply, BotVoiceCache, BotUser):
            counts[model.__tablename__] = conn.execute(
                sa.delete(model).where(model.bot_user_id == user_id)).rowcount
    return counts
