"""voice_transcripts and voice_insights materialized with dg.materialize on the real PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone

import sqlalchemy as sa

from telegram_intel.defs.resources import LLMResource
from telegram_intel.defs.voice.insights import voice_insights
from telegram_intel.defs.voice.resources import WhisperResource
from telegram_intel.defs.voice.transcripts import voice_transcripts
from telegram_intel.llm.schemas import validate
from telegram_intel.pipeline.voice_modes import (
    DEFAULT_SCHEMA,
    EXTRACTIVE_METHOD,
    TONE_SCHEMA,
)
from telegram_intel_tests.support import dagster
from telegram_intel_tests.support.voice import (
    CHAT,
    DAY1,
    DAY2,
    EN_BUDGET,
    EN_MEETING,
    OPTED_OUT,
    OTHER_CHAT,
    RU_THANKS,
    VoiceMessage,
    day,
    fake_llm,
    insert_voice_messages,
    insights,
    materialize,
    metadata,
    storage_of,
    transcripts,
)

PROMPT_RISK = """<!--
purpose: test mode added by configuration
requires: an API key
-->
## system
You look for risks.
## user
Transcript ({{language}}, {{duration_s}} s): \"\"\"{{transcript}}\"\"\"
"""


def resources(llm: LLMResource | None = None, **whisper) -> dict:
    return dagster.resources(llm=llm, whisper=WhisperResource(**{"model": "tiny.en", "device": "cpu", **whisper}))


def contains(text: str | None, words) -> bool:
    return text is not None and all(w in text.lower() for w in words)


def test_transcripts_with_bad_files_in_the_partition(engine, ti_env, speech, tmp_path, load_counter):
    from telegram_intel.lib.cleaning import CleaningConfig
    from telegram_intel.pipeline.corpus import clean_range
    from telegram_intel.pipeline.search import search

    storage = storage_of(ti_env)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "random.ogg").write_bytes(os.urandom(3000))
    (bad / "empty.oga").write_bytes(b"")
    (bad / "notes.mp3").write_text("not audio at all\n")
    insert_voice_messages(engine, storage, [
        VoiceMessage(1, day(DAY1, 0), speech["en_budget"]),
        VoiceMessage(2, day(DAY1, 5), bad / "random.ogg"),
        VoiceMessage(3, day(DAY1, 10), bad / "empty.oga"),
        VoiceMessage(4, day(DAY1, 15), bad / "notes.mp3", media_type="audio"),
        VoiceMessage(5, day(DAY1, 20), tmp_path / "never-written.ogg"),  # 'present' in the db, gone from disk
        VoiceMessage(6, day(DAY1, 25), speech["en_meeting"], sender=OPTED_OUT),  # opted out: never transcribed
        VoiceMessage(7, day(DAY1, 30), None, status="not_included"),
        VoiceMessage(8, day(DAY1, 35), speech["en_meeting"], media_type="video_note"),
        VoiceMessage(10, day(DAY2, 0), speech["en_meeting"], media_type="audio"),
    ])

    result = materialize([voice_transcripts], resources(), range_=("2025-06-01", "2025-06-02"))
    assert len(load_counter) == 1  # one model load for the whole run (two partitions)
    rows = transcripts(engine)
    assert set(rows) == {1, 2, 3, 4, 5, 8, 10}
    assert contains(rows[1].text, EN_BUDGET[1]) and contains(rows[8].text, EN_MEETING[1])
    assert contains(rows[10].text, EN_MEETING[1])
    for mid in (1, 8, 10):
        r = rows[mid]
        assert (r.status, r.model, r.language, r.error) == ("ok", "tiny.en", "en", None)
        assert r.segments and r.segments[0]["end"] > r.segments[0]["start"] >= 0 and r.duration_s > 1
        assert r.file_sha256 == f"sha-{CHAT}-{mid}" and r.processing_s > 0
    kinds = {mid: rows[mid].error_kind for mid in (2, 3, 4, 5)}
    assert kinds[3] == "empty_file" and kinds[5] == "missing_file"
    assert kinds[2] in ("corrupt_audio", "unsupported_format")
    assert kinds[4] in ("unsupported_format", "no_audio_stream")
    assert all(rows[mid].status == "error" and rows[mid].text is None and rows[mid].error for mid in kinds)

    meta = metadata(result, "voice_transcripts")
    assert (meta["processed"], meta["transcribed"], meta["errors"]) == (7, 3, 4)
    assert meta["model"] == "tiny.en" and meta["languages"] == {"en": 3}
    assert meta["audio_seconds"] > 5 and 0 < meta["real_time_factor"] < 5
    assert meta["whisper_compute_type"] == "int8" and meta["whisper_device"] == "cpu"
    assert sum(meta["error_kinds"].values()) == 4

    # a replay has nothing to do and loads no model
    again = metadata(materialize([voice_transcripts], resources(), partition_key="2025-06-01"), "voice_transcripts")
    assert (again["processed"], again["model_loaded"]) == (0, False)
    assert len(load_counter) == 1

    # the transcript becomes the message's text in clean_messages, and full-text search finds it
    clean_range(engine, datetime(2025, 6, 1, tzinfo=timezone.utc), datetime(2025, 6, 3, tzinfo=timezone.utc),
                CleaningConfig(pseudonymize=False), secret=None)
    with engine.connect() as conn:
        clean = {r.message_id: r for r in conn.execute(sa.text("SELECT * FROM clean_messages"))}
    assert clean[1].is_transcript and contains(clean[1].text, EN_BUDGET[1])
    assert 6 not in clean and 2 not in clean  # opted out; failed (no text: media-only, dropped)
    hits = search(engine, None, "quarterly budget")
    assert hits and (hits[0].chat_id, hits[0].message_id, hits[0].is_transcript) == (CHAT, 1, True)


def test_forced_language_per_chat_with_the_multilingual_model(engine, ti_env, speech, models_dir):
    storage = storage_of(ti_env)
    insert_voice_messages(engine, storage, [
        VoiceMessage(1, day(DAY1, 0), speech["en_budget"]),
        VoiceMessage(2, day(DAY1, 5), speech["ru_thanks"], chat_id=OTHER_CHAT),
    ])
    res = resources(model="base", models_dir=str(models_dir), language="auto",
                    chat_languages={str(OTHER_CHAT): "ru"})
    meta = metadata(materialize([voice_transcripts], res, partition_key="2025-06-01"), "voice_transcripts")
    rows = transcripts(engine)
    assert (rows[2].language, rows[2].language_source) == ("ru", "chat")
    assert contains(rows[2].text, RU_THANKS[1]), rows[2].text
    assert (rows[1].language, rows[1].language_source) == ("en", "detected") and rows[1].language_probability > 0.5
    assert contains(rows[1].text, EN_BUDGET[1])
    assert meta["languages"] == {"en": 1, "ru": 1} and meta["model"] == "base"


def add_transcripts(engine, items: list[tuple[int, datetime, str]]) -> None:
    """voice messages with an 'ok' transcript row (no whisper needed for the insight tests)."""
    # no files: the transcript rows are written directly
    insert_voice_messages(engine, None, [VoiceMessage(mid, date, None, status="not_included")
                                         for mid, date, _ in items])
    with engine.begin() as conn:
        for mid, date, text in items:
            conn.execute(sa.text(
                "INSERT INTO voice_transcripts (chat_id, message_id, model, date, status, text, language, duration_s) "
                "VALUES (:c, :m, 'tiny.en', :d, 'ok', :t, 'en', 4.2)"), {"c": CHAT, "m": mid, "d": date, "t": text})


TEXTS = [
    (1, day(DAY1, 0), EN_BUDGET[0] + " Call me at +7 916 123-45-67."),
    (2, day(DAY1, 10), EN_MEETING[0]),
]


def test_insights_run_default_and_tone_concurrently_through_the_llm(engine, ti_env, voice_llm_server, tmp_path):
    add_transcripts(engine, TEXTS)
    (tmp_path / "voice_risk.md").write_text(PROMPT_RISK)
    (tmp_path / "modes.yaml").write_text("modes:\n  RISK:\n    prompt: voice_risk.md\n    model: model-risk\n"
                                         "    schema: voice_default\n")
    config = {"ops": {"voice_insights": {"config": {
        "mode_models": {"DEFAULT": "model-default", "TONE": "model-tone"},
        "modes": ["DEFAULT", "TONE", "RISK"], "modes_file": str(tmp_path / "modes.yaml"), "concurrency": 2}}}}
    result = materialize([voice_insights], resources(fake_llm(voice_llm_server)), partition_key="2025-06-01",
                         run_config=config)
    rows = insights(engine)
    assert set(rows) == {(m, mode) for m in (1, 2) for mode in ("DEFAULT", "TONE", "RISK")}
    for mid in (1, 2):
        default, tone, risk = rows[(mid, "DEFAULT")], rows[(mid, "TONE")], rows[(mid, "RISK")]
        assert default.method.startswith("llm:model-default:voice_default@") and default.llm_model == "model-default"
        assert tone.method.startswith("llm:model-tone:voice_tone@") and tone.llm_model == "model-tone"
        assert risk.method.startswith("llm:model-risk:voice_risk@")
        validate(default.result, DEFAULT_SCHEMA)
        validate(tone.result, TONE_SCHEMA)
        assert tone.result["dominant_emotion"] == "impatience"
        # the modes of one message ran side by side: every interval overlaps the others
        spans = [(r.started_at, r.finished_at) for r in (default, tone, risk)]
        assert max(s for s, _ in spans) < min(f for _, f in spans), spans
        assert all(r.status == "ok" and r.transcript_model == "tiny.en" for r in (default, tone, risk))
    meta = metadata(result, "voice_insights")
    assert meta["peak_concurrent_llm_calls"] >= 3
    assert meta["rows_written"] == 6 and meta["llm_calls"] == 6 and meta["errors"] == 0
    models = {(r["body"]["response_format"]["json_schema"]["name"], r["body"]["model"]) for r in voice_llm_server.requests}
    assert models == {("voice_default", "model-default"), ("voice_tone", "model-tone"),
                      ("voice_risk", "model-risk")}
    # the LLM gets the PII-masked transcript
    sent = json.dumps([r["body"]["messages"] for r in voice_llm_server.requests], ensure_ascii=False)
    assert "916 123" not in sent and "[PHONE]" in sent

    # up-to-date rows are not redone
    before = len(voice_llm_server.requests)
    again = metadata(materialize([voice_insights], resources(fake_llm(voice_llm_server)), partition_key="2025-06-01",
                                 run_config=config), "voice_insights")
    assert again["rows_written"] == 0 and again["rows_up_to_date"] == 6 and len(voice_llm_server.requests) == before


def test_insights_offline_and_llm_fallback(engine, ti_env, voice_llm_server):
    add_transcripts(engine, TEXTS)
    # no LLM configured: DEFAULT is extractive, TONE is skipped, the asset still materializes
    offline = metadata(materialize([voice_insights], resources(), partition_key="2025-06-01"), "voice_insights")
    rows = insights(engine)
    assert set(rows) == {(1, "DEFAULT"), (2, "DEFAULT")}
    assert all(r.method == EXTRACTIVE_METHOD and r.llm_model is None for r in rows.values())
    validate(rows[(1, "DEFAULT")].result, DEFAULT_SCHEMA)
    assert any("send the quarterly budget" in a.lower() for a in rows[(1, "DEFAULT")].result["actions"])
    assert "+7 916" not in json.dumps(rows[(1, "DEFAULT")].result, ensure_ascii=False)  # masked before analysis
    assert offline["mode"] == "offline" and "TONE" in offline["modes_skipped"]

    # LLM on, DEFAULT's model failing: DEFAULT falls back to extractive (and says so), TONE comes from the LLM
    voice_llm_server.fail_prompts = {"voice_default"}
    failing = metadata(materialize([voice_insights], resources(fake_llm(voice_llm_server)), partition_key="2025-06-01"),
                       "voice_insights")
    rows = insights(engine)
    assert all(rows[(m, "DEFAULT")].method == EXTRACTIVE_METHOD + "+llm-fallback" for m in (1, 2))
    assert "HTTP 500" in rows[(1, "DEFAULT")].error or "500" in rows[(1, "DEFAULT")].error
    assert all(rows[(m, "TONE")].method.startswith("llm:test-model:voice_tone@") for m in (1, 2))
    assert failing["llm_fallbacks"] == {"DEFAULT": 2} and failing["errors"] == 0

    # once the LLM answers again, the fallback rows are replaced by LLM answers; TONE rows stay as they are
    voice_llm_server.fail_prompts = set()
    healed = metadata(materialize([voice_insights], resources(fake_llm(voice_llm_server)), partition_key="2025-06-01"),
                      "voice_insights")
    rows = insights(engine)
    assert all(rows[(m, "DEFAULT")].method.startswith("llm:test-model:voice_default@") for m in (1, 2))
    assert healed["rows_written"] == 2 and healed["rows_up_to_date"] == 2


def test_which_insight_rows_are_redone():
    from telegram_intel.pipeline.voice_analysis import needs_insight as _needs_run

    llm = "llm:m:voice_default@abc"
    row = {"sha": "s1", "status": "ok", "method": llm}
    assert not _needs_run(row, "s1", llm, False)
    assert _needs_run(row, "s1", llm, True)  # force
    assert _needs_run(row, "s2", llm, False)  # the transcript changed
    assert _needs_run({**row, "status": "error"}, "s1", llm, False)
    assert _needs_run({**row, "method": EXTRACTIVE_METHOD + "+llm-fallback"}, "s1", llm, False)
    assert _needs_run({**row, "method": "llm:m:voice_default@old"}, "s1", llm, False)  # prompt changed
    assert not _needs_run(row, "s1", EXTRACTIVE_METHOD, False)  # offline never downgrades an LLM answer
    assert _needs_run(None, "s1", EXTRACTIVE_METHOD, False)


def test_tone_without_offline_method_records_llm_errors(engine, ti_env, voice_llm_server):
    add_transcripts(engine, TEXTS[:1])
    voice_llm_server.fail_prompts = {"voice_tone"}
    materialize([voice_insights], resources(fake_llm(voice_llm_server)), partition_key="2025-06-01")
    tone = insights(engine)[(1, "TONE")]
    assert tone.status == "error" and tone.result is None and "500" in tone.error


def test_invalid_mode_configuration_fails_before_any_call(engine, ti_env, voice_llm_server, tmp_path):
    add_transcripts(engine, TEXTS[:1])
    (tmp_path / "modes.json").write_text(json.dumps({"modes": {"BROKEN": {
        "prompt": "voice_missing_prompt", "model": "", "schema": {"type": 5}}}}))
    config = {"ops": {"voice_insights": {"config": {"modes": ["DEFAULT", "BROKEN"],
                                                     "modes_file": str(tmp_path / "modes.json")}}}}
    result = materialize([voice_insights], resources(fake_llm(voice_llm_server)), partition_key="2025-06-01",
                         run_config=config, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.user_failure_data.description or ""
    assert "not found" in message and "no model set" in message and "not a valid JSON Schema" in message
    assert voice_llm_server.requests == [] and insights(engine) == {}


def test_sample_export_end_to_end(engine, ti_env, espeak, tmp_path):
    """The sample export, its voice messages spoken again by espeak-ng's default English voice (the generator's own
    speech is tested in tools/test_sample_data.py) → import → voice_transcripts → voice_insights (offline)."""
    from telegram_intel.pipeline.ingest import import_export
    from telegram_intel_tools.sample_data import load_ground_truth, write_sample_export

    out = tmp_path / "sample"
    write_sample_export(out, messages=1500, chats=1, seed=3, media=True)
    voices = load_ground_truth(out)["voice_messages"]
    assert voices and all(v["language"] == "en" for v in voices)  # seed 3: English voice messages only
    for v in voices:
        speech = espeak(v["transcript"], tmp_path / "speech.wav")
        shutil.copyfile(speech, out / v["file"])
    import_export(engine, out / "result.json", storage_of(ti_env))

    with engine.connect() as conn:
        first, last = conn.execute(sa.text(
            "SELECT min(date), max(date) FROM telegram_messages WHERE media_type = 'voice'")).one()
    # one run over the days that have voice messages (the whole 90 days work too, only slower to record)
    materialize([voice_transcripts, voice_insights], resources(), range_=(f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"))
    rows = {r.message_id: r for r in transcripts(engine).values()}
    assert len(rows) == len(voices)
    for v in voices:
        row = rows[v["message_id"]]
        truth = {w.strip(".,!?").lower() for w in v["transcript"].split() if len(w.strip(".,!?")) > 3}
        heard = {w.strip(".,!?").lower() for w in row.text.split()}
        assert row.status == "ok" and len(truth & heard) >= 0.6 * len(truth), (v["transcript"], row.text)
    defaults = {k: r for k, r in insights(engine).items() if k[1] == "DEFAULT"}
    assert len(defaults) == len(voices) and all(r.method == EXTRACTIVE_METHOD for r in defaults.values())


def test_an_unusable_model_fails_the_run_with_the_reason(engine, ti_env, speech, tmp_path):
    insert_voice_messages(engine, storage_of(ti_env), [VoiceMessage(1, day(DAY1, 0), speech["en_budget"])])
    result = materialize([voice_transcripts], resources(model=str(tmp_path / "no-such-model")),
                         partition_key="2025-06-01", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "does not exist" in (failure.step_failure_data.user_failure_data.description or "")
    assert transcripts(engine) == {}
