"""Fixtures for the voice tests: real speech made with espeak-ng (Debian), the packaged whisper models, voice
messages written straight into the real PostgreSQL, and a local OpenAI-compatible server for voice_insights."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel_tests.support import dagster
from telegram_intel_tests.support.fake_openai import FakeOpenAIServer, Reply, completion

CHAT = -1005550001111
OTHER_CHAT = -1005550002222
DAY1 = datetime(2025, 6, 1, 9, 0, tzinfo=timezone.utc)
DAY2 = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)
SPEAKER, OPTED_OUT = 701, 702
# What espeak-ng says, and the words whisper must get back.
EN_BUDGET = ("Please send the quarterly budget report to Maria before Friday.", ("budget", "report", "friday"))
EN_MEETING = ("The meeting moves to Monday morning at ten o'clock.", ("meeting", "monday", "morning"))
# espeak's Russian voice is hard to recognize at its normal pace; slower, simple words come back reliably
RU_THANKS = ("Москва. Спасибо. Хорошо.", ("спасибо", "хорошо"))


def speak(text: str, path: Path, voice: str = "en", speed: int | None = None) -> Path:
    cmd = ["espeak-ng", "-v", voice, "-w", str(path)]
    if speed:
        cmd += ["-s", str(speed)]
    subprocess.run([*cmd, text], check=True, capture_output=True, timeout=60)
    return path


@pytest.fixture(scope="session")
def espeak():
    if shutil.which("espeak-ng") is None:  # scripts/setup.sh installs it
        pytest.fail("espeak-ng is not installed (Debian package espeak-ng): the voice tests need real speech")
    return speak


@pytest.fixture(scope="session")
def speech(espeak, tmp_path_factory) -> dict[str, Path]:
    """WAV files of real (synthetic) speech, made once."""
    out = tmp_path_factory.mktemp("speech")
    return {
        "en_budget": espeak(EN_BUDGET[0], out / "en_budget.wav"),
        "en_meeting": espeak(EN_MEETING[0], out / "en_meeting.wav"),
        "ru_thanks": espeak(RU_THANKS[0], out / "ru_thanks.wav", voice="ru", speed=140),
    }


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """Where the multilingual base model is assembled (once per test session)."""
    return tmp_path_factory.mktemp("whisper-models")


@pytest.fixture(scope="session")
def tiny_en():
    from telegram_intel.ml.whisper import Transcriber

    return Transcriber("tiny.en", device="cpu")


@pytest.fixture
def load_counter(monkeypatch):
    """Counts faster-whisper model constructions (the real class still loads the real model)."""
    import faster_whisper

    real = faster_whisper.WhisperModel
    calls: list[str] = []

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, path, *args, **kwargs):
            calls.append(str(path))
            super().__init__(path, *args, **kwargs)

    monkeypatch.setattr(faster_whisper, "WhisperModel", Counting)
    return calls


# ---------------------------------------------------------------------------------------------------------------
# Voice messages in the database


@dataclass
class VoiceMessage:
    message_id: int
    date: datetime
    file: Path | None  # written into storage when set
    media_type: str = "voice"
    sender: int = SPEAKER
    chat_id: int = CHAT
    status: str = "present"
    text: str = ""


def insert_voice_messages(engine, storage_dir: Path, messages: list[VoiceMessage]) -> None:
    """telegram_chats/users/messages/files rows for ``messages``; files copied under ``storage_dir``."""
    with engine.begin() as conn:
        for chat in {m.chat_id for m in messages}:
            conn.execute(sa.text("INSERT INTO telegram_chats (chat_id, type, title) VALUES (:c, 'supergroup', :t) "
                                 "ON CONFLICT DO NOTHING"), {"c": chat, "t": f"chat {chat}"})
        for uid, ignored in ((SPEAKER, False), (OPTED_OUT, True)):
            conn.execute(sa.text("INSERT INTO telegram_users (user_id, display_name, is_ignored) "
                                 "VALUES (:u, :n, :i) ON CONFLICT DO NOTHING"),
                         {"u": uid, "n": f"User {uid}", "i": ignored})
        for m in messages:
            conn.execute(sa.text(
                "INSERT INTO telegram_messages (chat_id, message_id, date, sender_id, text, has_media, media_type) "
                "VALUES (:c, :m, :d, :s, :t, true, :mt)"),
                {"c": m.chat_id, "m": m.message_id, "d": m.date, "s": m.sender, "t": m.text, "mt": m.media_type})
            rel = None
            if m.file is not None:
                rel = f"telegram/media/{m.chat_id}/{m.message_id}{m.file.suffix}"
                target = storage_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if m.file.exists():
                    shutil.copyfile(m.file, target)
            conn.execute(sa.text(
                "INSERT INTO telegram_files (chat_id, message_id, kind, status, file_type, file_path, sha256) "
                "VALUES (:c, :m, 'file', :st, :ft, :p, :sha)"),
                {"c": m.chat_id, "m": m.message_id, "st": m.status, "ft": m.media_type,
                 "p": rel if m.status == "present" else None, "sha": f"sha-{m.chat_id}-{m.message_id}"})


def storage_of(home: Path) -> Path:
    path = home / "storage"
    path.mkdir(parents=True, exist_ok=True)
    return path


def transcripts(engine) -> dict[int, sa.Row]:
    with engine.connect() as conn:
        return {r.message_id: r for r in conn.execute(sa.text("SELECT * FROM voice_transcripts"))}


def insights(engine) -> dict[tuple[int, str], sa.Row]:
    with engine.connect() as conn:
        return {(r.message_id, r.mode): r for r in conn.execute(sa.text("SELECT * FROM voice_insights"))}


def materialize(assets: list, resources: dict, *, partition_key: str | None = None,
                range_: tuple[str, str] | None = None, run_config: dict | None = None,
                raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    tags = None
    if range_ is not None:
        tags = {"dagster/asset_partition_range_start": range_[0], "dagster/asset_partition_range_end": range_[1]}
    with dg.instance_for_test() as instance:
        return dg.materialize(assets, instance=instance, resources=resources, partition_key=partition_key,
                              tags=tags, run_config=run_config, raise_on_error=raise_on_error)


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    return dagster.metadata(result, asset, last=True)


# ---------------------------------------------------------------------------------------------------------------
# A local OpenAI-compatible server answering the voice prompts


def _prompt_name(body: dict) -> str:
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return fmt["json_schema"]["name"]
    system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
    return "voice_tone" if "tone" in system.lower() else "voice_default"


def voice_answer(body: dict, *, delay_s: float = 0.25) -> Reply:
    """DEFAULT / TONE answers after ``delay_s`` (so concurrent calls visibly overlap). A transcript containing
    "Friday" makes DEFAULT fail with HTTP 500 when the server's ``fail_default`` flag is set."""
    time.sleep(delay_s)
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    name = _prompt_name(body)
    if name == "voice_tone":
        data = {"hidden_intent": "wants it done quickly", "dominant_emotion": "impatience", "emotion_intensity": 6,
                "response_advice": "Confirm the deadline first, then say who does what."}
    else:
        data = {"summary": "LLM summary: " + user.split('"""')[1].strip()[:80],
                "key_points": ["point one", "point two", "point three"], "actions": ["send the report"]}
    return Reply(200, completion(json.dumps(data, ensure_ascii=False), model=body.get("model", "test-model")))


class VoiceLLMServer(FakeOpenAIServer):
    def __init__(self) -> None:
        self.fail_prompts: set[str] = set()
        super().__init__(default=self._answer)

    def _answer(self, body: dict) -> Reply:
        if _prompt_name(body) in self.fail_prompts:
            return Reply(500, {"error": {"message": "model crashed", "type": "server_error"}})
        return voice_answer(body)


@pytest.fixture
def voice_llm_server():
    server = VoiceLLMServer().start()
    yield server
    server.stop()


def fake_llm(server):
    from telegram_intel.defs.resources import LLMResource

    return LLMResource(base_url=server.url, model="test-model", max_retries=0, timeout_s=10, per_minute=100_000,
                       per_hour=1_000_000)


def day(base: datetime, minutes: int) -> datetime:
    return base + timedelta(minutes=minutes)
