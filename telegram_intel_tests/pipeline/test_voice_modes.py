"""The voice mode registry: built-ins, modes added by a YAML/JSON file, validation, the offline DEFAULT."""

from __future__ import annotations

import json

import pytest

from telegram_intel.llm.schemas import validate
from telegram_intel.pipeline.voice_modes import (
    DEFAULT_SCHEMA,
    ModeRegistryError,
    VoiceMode,
    extractive_insight,
    load_registry,
    validate_mode,
)

PROMPT = """<!--
purpose: test mode
requires: an API key
-->
## system
You judge risk.
## user
Transcript ({{language}}): {{transcript}}
"""


def test_builtin_modes_validate():
    registry = load_registry()
    modes = registry.validate()
    assert [m.name for m in modes] == ["DEFAULT", "TONE"]
    assert registry["DEFAULT"].offline == "extractive" and registry["TONE"].offline is None
    assert registry["DEFAULT"].prompt_location == ("voice_default", None)


def test_a_mode_is_added_by_a_yaml_file_with_its_own_prompt_and_model(tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "voice_risk.md").write_text(PROMPT)
    (tmp_path / "modes.yaml").write_text(
        "modes:\n"
        "  RISK:\n"
        "    prompt: prompts/voice_risk.md\n"
        "    model: risk-model\n"
        "    temperature: 0.1\n"
        "    schema: {type: object, required: [risk], properties: {risk: {type: string}}}\n"
        "  TONE:\n"
        "    model: gpt-4o\n"  # overrides only the model of a built-in mode
    )
    registry = load_registry(tmp_path / "modes.yaml", models={"DEFAULT": "o3"})
    modes = {m.name: m for m in registry.validate(["DEFAULT", "TONE", "RISK"])}
    assert modes["RISK"].prompt_location == ("voice_risk", str(tmp_path / "prompts"))
    assert (modes["RISK"].model, modes["RISK"].temperature) == ("risk-model", 0.1)
    assert modes["TONE"].model == "gpt-4o" and modes["TONE"].prompt == "voice_tone"
    assert modes["DEFAULT"].model == "o3" and modes["DEFAULT"].resolved_model("x") == "o3"
    assert load_registry()["TONE"].resolved_model("llm-default") == "llm-default"


def test_json_file_list_form(tmp_path):
    (tmp_path / "voice_risk.md").write_text(PROMPT)
    (tmp_path / "modes.json").write_text(json.dumps({"modes": [
        {"name": "RISK", "prompt": "voice_risk.md", "model": "m", "schema": "voice_tone"}]}))
    registry = load_registry(tmp_path / "modes.json")
    assert registry.validate(["RISK"])[0].schema["required"][0] == "hidden_intent"


def test_validation_reports_every_problem(tmp_path):
    (tmp_path / "no_transcript.md").write_text("## user\nSay hi in {{language}} to {{recipient}}\n")
    bad = [
        VoiceMode(name="MISSING_PROMPT", prompt="voice_nope", schema=DEFAULT_SCHEMA, model="m"),
        VoiceMode(name="BAD_SCHEMA", prompt="voice_default", schema={"type": "objekt"}, model="m"),
        VoiceMode(name="NOT_OBJECT", prompt="voice_default", schema={"type": "array"}, model="m"),
        VoiceMode(name="NO_MODEL", prompt="voice_default", schema=DEFAULT_SCHEMA, model=""),
        VoiceMode(name="VARS", prompt=str(tmp_path / "no_transcript.md"), schema=DEFAULT_SCHEMA, model="m"),
        VoiceMode(name="OFFLINE", prompt="voice_default", schema=DEFAULT_SCHEMA, model="m", offline="magic"),
        VoiceMode(name="lower", prompt="voice_default", schema=DEFAULT_SCHEMA, model="m"),
        VoiceMode(name="EXTRACTIVE_MISMATCH", prompt="voice_tone", schema={"type": "object", "required": ["x"]},
                  model="m", offline="extractive"),
    ]
    expected = {
        "MISSING_PROMPT": "not found",
        "BAD_SCHEMA": "not a valid JSON Schema",
        "NOT_OBJECT": "must describe an object",
        "NO_MODEL": "no model set",
        "VARS": "recipient",
        "OFFLINE": "unknown offline method 'magic'",
        "lower": "UPPER_SNAKE_CASE",
        "EXTRACTIVE_MISMATCH": "rejects",
    }
    for mode in bad:
        problems = validate_mode(mode)
        assert any(expected[mode.name] in p for p in problems), (mode.name, problems)
    assert any("never uses {{transcript}}" in p for p in validate_mode(bad[4]))

    registry = load_registry()
    for mode in bad:
        registry.add(mode)
    with pytest.raises(ModeRegistryError) as raised:
        registry.validate(["DEFAULT", "BAD_SCHEMA", "NO_MODEL"])
    assert len(raised.value.problems) == 2  # DEFAULT is fine; both others are listed
    with pytest.raises(ModeRegistryError, match="unknown mode 'SHOUT'"):
        registry.validate(["SHOUT"])


def test_structural_errors_in_files(tmp_path):
    with pytest.raises(ModeRegistryError, match="not found"):
        load_registry(tmp_path / "absent.yaml")
    (tmp_path / "broken.yaml").write_text("modes: [unclosed\n")
    with pytest.raises(ModeRegistryError, match="not valid yaml"):
        load_registry(tmp_path / "broken.yaml")
    (tmp_path / "typo.yaml").write_text("modes:\n  NEW:\n    prompt: voice_default\n    colour: red\n")
    with pytest.raises(ModeRegistryError, match="unknown settings colour"):
        load_registry(tmp_path / "typo.yaml")
    (tmp_path / "incomplete.yaml").write_text("modes:\n  NEW:\n    prompt: voice_default\n")
    registry = load_registry(tmp_path / "incomplete.yaml")
    with pytest.raises(ModeRegistryError) as raised:
        registry.validate(["NEW"])
    text = str(raised.value)
    assert "no model set" in text and "must describe an object" in text
    with pytest.raises(ModeRegistryError, match="unknown mode 'NOPE'"):
        load_registry(models={"NOPE": "m"})


@pytest.mark.parametrize(("text", "action_word"), [
    ("Please send the quarterly budget report to Maria before Friday. The March numbers look wrong. "
     "I will call the bank tomorrow. Also the office moves next week.", "send"),
    ("Привет. Нужно отправить отчёт до пятницы, пожалуйста. Клиент недоволен задержкой.", "отправить"),
    ("Merhaba. Lütfen raporu cumaya kadar gönder. Müşteri bekliyor.", "gönder"),
])
def test_extractive_default_matches_the_schema(text, action_word):
    insight = extractive_insight(text)
    validate(insight, DEFAULT_SCHEMA)
    assert insight["summary"] and 1 <= len(insight["key_points"]) <= 5
    assert any(action_word in a for a in insight["actions"])
    assert "Привет." not in insight["key_points"]  # greetings are no key points


def test_extractive_default_on_a_short_transcript():
    insight = extractive_insight("Okay.")
    validate(insight, DEFAULT_SCHEMA)
    assert insight["actions"] == []
