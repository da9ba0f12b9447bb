"""Voice insight (seed 004): voice messages, video notes and audio files → transcript + DEFAULT + TONE (and custom
modes) in one reply; /list_modes, /set_model MODE MODEL (admins; checked before use, kept on failure)."""

from __future__ import annotations

import asyncio
import html
import io
import logging
import time
from typing import Any

import aiohttp
from aiogram import Bot, F, Router
from aiogram.enums import ChatAction, ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from telegram_intel.bot.context import BotContext

log = logging.getLogger("telegram_intel.bot")
LIMIT = 4096

FRIENDLY_ERRORS = {
    "empty_file": "The recording is empty.",
    "unsupported_format": "I can't read this file format.",
    "corrupt_audio": "The recording seems damaged: I could not decode it.",
    "no_audio_stream": "This file has no sound in it.",
    "no_audio": "This file has no sound in it.",
}


async def setup(ctx: BotContext) -> None:
    """Build the voice service from the settings (unless one was given) and load whisper before the first
    message (seed 004: preloaded model)."""
    if ctx.voice is None:
        from telegram_intel.llm.config import load_llm_settings
        from telegram_intel.pipeline.bot_voice import VoiceInsightService

        s = ctx.settings
        ctx.voice = VoiceInsightService(ctx.engine, whisper_model=s.whisper_model, language=s.whisper_language,
                                        modes=s.voice_modes, modes_file=s.modes_file, llm=load_llm_settings(),
                                        cache_hours=s.voice_cache_hours)
    ctx.voice.modes()  # a broken modes configuration stops the start with its problems listed
    await asyncio.to_thread(ctx.voice.transcriber)


# -- formatting ---------------------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value), quote=False)


def _format_default(data: dict[str, Any]) -> list[str]:
    lines = [f"<b>Summary:</b> {_e(data.get('summary', ''))}"]
    points = data.get("key_points") or []
    if points:
        lines.append("<b>Key points:</b>")
        lines += [f"• {_e(p)}" for p in points]
    actions = data.get("actions") or []
    if actions:
        lines.append("<b>Actions:</b>")
        lines += [f"• {_e(a)}" for a in actions]
    return lines


def _format_tone(data: dict[str, Any]) -> list[str]:
    intensity = data.get("emotion_intensity")
    emotion = _e(data.get("dominant_emotion", ""))
    return [f"<b>Hidden intent:</b> {_e(data.get('hidden_intent', ''))}",
            f"<b>Dominant emotion:</b> {emotion}" + (f" ({intensity}/10)" if intensity is not None else ""),
            f"<b>How to answer:</b> {_e(data.get('response_advice', ''))}"]


def _format_generic(data: dict[str, Any]) -> list[str]:
    lines = []
    for key, value in data.items():
        label = _e(str(key).replace("_", " ").capitalize())
        if isinstance(value, list):
            lines.append(f"<b>{label}:</b>")
            lines += [f"• {_e(v)}" for v in value]
        else:
            lines.append(f"<b>{label}:</b> {_e(value)}")
    return lines


def format_insight(result: Any) -> str:
    """The reply: transcript, then one section per mode (HTML, every value escaped)."""
    lang = f", {result.language}" if result.language else ""
    parts = [f"🎙 <b>Transcript</b> ({result.duration_s:.0f} s{lang}):\n{_e(result.transcript)}"]
    if not result.transcript.strip():
        parts = ["🎙 I could not hear any speech in this recording."]
    for name, mode in result.modes.items():
        title = {"DEFAULT": "📝 DEFAULT", "TONE": "🎭 TONE"}.get(name, f"🔎 {name}")
        if mode["status"] == "ok" and isinstance(mode.get("result"), dict):
            formatter = {"DEFAULT": _format_default, "TONE": _format_tone}.get(name, _format_generic)
            body = "\n".join(formatter(mode["result"]))
            if str(mode.get("method") or "").startswith("offline:"):
                body += "\n<i>(offline summary: no LLM answer)</i>"
        elif mode["status"] == "unavailable":
            body = "<i>not available: no LLM is configured</i>"
        else:
            body = "<i>this analysis failed; please try again later</i>"
        parts.append(f"<b>{title}</b>\n{body}")
    if result.cached:
        parts.append("<i>(from the last 24 h cache)</i>")
    return "\n\n".join(parts)


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    """Cut a long reply between sections or lines (never inside a tag pair: each line is balanced)."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(current) + 1 + len(line) > limit and len(line) > limit // 4:
            # a very long line (a long transcript: escaped text, no tags): fill this message, cut at a space
            room = limit - len(current) - (1 if current else 0)
            if room < limit // 4:
                chunks.append(current)
                current, room = "", limit
            cut = line.rfind(" ", 0, room)
            if cut <= room // 2:
                cut = room
                amp = line.rfind("&", max(0, cut - 8), cut)
                if amp != -1 and ";" not in line[amp:cut]:
                    cut = amp  # never split an entity such as &amp;
            piece, line = line[:cut], line[cut:].lstrip()
            chunks.append(f"{current}\n{piece}" if current else piece)
            current = ""
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    return chunks


# -- handlers -----------------------------------------------------------------------------------------------------


def _media(message: Message) -> tuple[str, Any, str]:
    if message.voice:
        return "voice", message.voice, ".ogg"
    if message.video_note:
        return "video_note", message.video_note, ".mp4"
    audio = message.audio
    name = audio.file_name or ""
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ".mp3"
    return "audio", audio, suffix


def build_router(ctx: BotContext) -> Router:
    router = Router(name="voice")

    @router.message(F.voice | F.video_note | F.audio)
    async def on_voice(message: Message, bot: Bot) -> None:
        from telegram_intel.pipeline.bot_voice import VoiceFailed

        kind, media, suffix = _media(message)
        s = ctx.settings
        user_ref = ctx.user_ref(message.from_user.id)
        if media.duration and media.duration > s.max_voice_seconds:
            await message.reply(f"This recording is too long: I analyse up to {s.max_voice_seconds // 60} minutes.")
            ctx.metrics.errors.labels("voice", "too_long").inc()
            return
        if media.file_size and media.file_size > s.max_file_mb * 1024 * 1024:
            await message.reply(f"This file is too big: bots can download files up to {s.max_file_mb:g} MB.")
            ctx.metrics.errors.labels("voice", "too_big").inc()
            return
        status = await message.reply("⏳ Transcribing…")
        await bot.send_chat_action(message.chat.id, ChatAction.TYPING)
        started = time.perf_counter()
        try:
            file = await bot.get_file(media.file_id)
            buffer = io.BytesIO()
            await bot.download_file(file.file_path, buffer)
        except (TelegramAPIError, aiohttp.ClientError) as exc:  # getFile refused, or the file URL failed
            ctx.metrics.errors.labels("voice", "download").inc()
            log.warning("voice download failed", extra={"user": user_ref, "kind": kind, "error": type(exc).__name__})
            await status.edit_text("😕 I could not download this recording from Telegram. Please send it again.")
            return
        ctx.metrics.processing.labels("voice", "download").observe(time.perf_counter() - started)
        try:
            result = await asyncio.to_thread(ctx.voice.analyse, buffer.getvalue(), user_id=message.from_user.id,
                                             suffix=suffix)
        except VoiceFailed as exc:
            ctx.metrics.errors.labels("voice", exc.kind).inc()
            log.info("voice not transcribed", extra={"user": user_ref, "kind": kind, "error_kind": exc.kind})
            hint = FRIENDLY_ERRORS.get(exc.kind, "I could not transcribe this recording.")
            await status.edit_text(f"😕 {hint} Please try another recording.")
            return
        except Exception as exc:  # a bug or the database: say so in place of "Transcribing…", count it, go on
            ctx.metrics.errors.labels("voice", type(exc).__name__).inc()
            log.error("voice insight failed", exc_info=True, extra={"user": user_ref, "kind": kind})
            await status.edit_text("😕 Something went wrong on my side. Please try again later.")
            return
        total = time.perf_counter() - started
        ctx.metrics.processing.labels("voice", "total").observe(total)
        ctx.metrics.cache.labels("hit" if result.cached else "miss").inc()
        if not result.cached:
            ctx.metrics.processing.labels("voice", "transcribe").observe(result.transcribe_s)
            if result.modes:
                ctx.metrics.processing.labels("voice", "analyse").observe(result.analyse_s)
            for mode, used in result.tokens.items():
                ctx.metrics.add_tokens(mode, used["prompt"], used["completion"])
        for name, mode in result.modes.items():
            if mode["status"] not in ("ok", "unavailable") or str(mode.get("method") or "").endswith("fallback"):
                ctx.metrics.errors.labels("voice", f"mode_{name.lower()}").inc()
        chunks = split_html(format_insight(result))
        await status.edit_text(chunks[0], parse_mode=ParseMode.HTML)
        for chunk in chunks[1:]:
            await message.answer(chunk, parse_mode=ParseMode.HTML)
        log.info("voice answered", extra={"user": user_ref, "kind": kind, "cached": result.cached,
                                          "audio_s": result.duration_s, "language": result.language,
                                          "modes": {n: m["status"] for n, m in result.modes.items()},
                                          "total_s": round(total, 3)})

    @router.message(Command("list_modes"))
    async def list_modes(message: Message) -> None:
        modes = await asyncio.to_thread(ctx.voice.describe_modes)
        lines = ["<b>Voice analysis modes</b>"]
        for m in modes:
            how = f"model <code>{_e(m['model'])}</code>" if m["model"] else _e(m["method"] or "not available")
            lines.append(f"• <b>{_e(m['name'])}</b> — {_e(m['description'] or 'custom mode')} ({how}"
                         f"{', changed with /set_model' if m['overridden'] else ''})")
        if ctx.voice.reload_error:
            lines.append("<i>The modes file has problems; the previous modes stay in use.</i>")
        await message.answer("\n".join(lines), parse_mode=ParseMode.HTML)

    @router.message(Command("set_model"))
    async def set_model(message: Message, command: CommandObject) -> None:
        from telegram_intel.pipeline.bot_voice import ModeChangeRejected

        if not ctx.is_admin(message.from_user.id):
            await message.answer("Only the bot's admins can change models.")
            return
        args = (command.args or "").split()
        if len(args) != 2:
            await message.answer("Usage: /set_model MODE MODEL, e.g. /set_model TONE gpt-4o")
            return
        mode, model = args
        try:
            previous = await asyncio.to_thread(ctx.voice.set_model, mode, model)
        except ModeChangeRejected as exc:
            ctx.metrics.errors.labels("voice", "set_model_rejected").inc()
            await message.answer(f"Not changed: {exc}")
            return
        log.info("mode model changed", extra={"mode": mode.upper(), "model": model})
        await message.answer(f"{mode.upper()} now uses {model} (was {previous}).")

    return router
