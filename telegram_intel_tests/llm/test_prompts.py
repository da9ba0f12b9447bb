from __future__ import annotations

import pytest

from telegram_intel.llm import (
    INTENT_SCHEMA,
    MESSAGE_SUMMARY_SCHEMA,
    USER_JOB_PROFILE_SCHEMA,
    PromptError,
    available_prompts,
    load_prompt,
)
from telegram_intel.llm.prompts import parse_prompt
from telegram_intel.llm.schemas import (
    JSONContentError,
    SchemaViolation,
    check_schema,
    parse_json_object,
    validate,
)

SHIPPED = {
    "user_job_profile": ({"messages": ["Рендер в 3ds max готов", "şantiye yarın"], "message_count": 2,
                                "sectors": "construction, software"}, USER_JOB_PROFILE_SCHEMA),
    "message_summary": ({"message": "hello", "reply_context": ""}, MESSAGE_SUMMARY_SCHEMA),
    "intent": ({"message": "hello", "reply_context": ""}, INTENT_SCHEMA),
}


def test_shipped_prompts_document_themselves_and_render():
    assert set(SHIPPED) <= set(available_prompts())
    for name, (variables, schema) in SHIPPED.items():
        prompt = load_prompt(name)
        assert prompt.requires_api_key, f"{name}: header must say it needs an API key"
        assert "local OpenAI-compatible server" in prompt.header["requires"]
        assert prompt.header["purpose"] and prompt.header["variables"]
        assert prompt.variables == set(variables)
        messages = prompt.render(variables)
        assert [m["role"] for m in messages] == ["system", "user"]
        assert "{{" not in messages[1]["content"]
        check_schema(schema)


def test_non_string_values_are_json_and_values_are_not_re_expanded():
    prompt = load_prompt("user_job_profile")
    content = prompt.render({"messages": ["ищу {{message_count}}", "ok"], "message_count": 2, "sectors": "x"})[1]["content"]
    assert '["ищу {{message_count}}", "ok"]' in content  # non-ASCII kept, braces inside values untouched


def test_missing_variables_are_named():
    with pytest.raises(PromptError, match="message, reply_context"):
        load_prompt("intent").render({})


def test_bad_names_and_files():
    with pytest.raises(PromptError, match="invalid prompt name"):
        load_prompt("../etc/passwd")
    with pytest.raises(PromptError, match="not found"):
        load_prompt("no_such_prompt")
    with pytest.raises(PromptError, match="no '## user' section"):
        parse_prompt("x", "<!-- requires: nothing -->\n## system\nhi")


def test_custom_prompt_directory(tmp_path):
    (tmp_path / "echo.md").write_text("<!--\npurpose: test\nrequires: an API key\n-->\n## user\nSay {{ word }}\n")
    prompt = load_prompt("echo", tmp_path)
    assert prompt.system == "" and prompt.render({"word": "hi"}) == [{"role": "user", "content": "Say hi"}]
    assert len(prompt.version) == 12


def test_json_parsing_and_validation():
    assert parse_json_object('```json\n{"a": 1}\n```') == {"a": 1}
    for bad in ("", "nope", "[1, 2]", '{"a": '):
        with pytest.raises(JSONContentError):
            parse_json_object(bad)
    with pytest.raises(SchemaViolation) as raised:
        validate({"label": "rant", "confidences": {}}, INTENT_SCHEMA)
    assert any(e.startswith("label: fails enum") for e in raised.value.errors)
    assert any(e.startswith("confidences: fails required") for e in raised.value.errors)
    validate({"job_label": "unknown", "sector": "unknown", "confidence": 0, "evidence_keywords": []}, USER_JOB_PROFILE_SCHEMA)
