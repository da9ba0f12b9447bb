"""JSON parsing and JSON-schema validation of model answers, plus the schemas of the shipped prompts.

Answers are always validated here, whether or not the server enforced ``response_format``:
local servers often ignore it, and strict mode covers only part of JSON Schema.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

INTENT_LABELS = ("question", "statement", "command", "discussion", "greeting", "feedback")

USER_JOB_PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["job_label", "sector", "confidence", "evidence_keywords"],
    "properties": {
        "job_label": {"type": "string", "minLength": 1, "maxLength": 120},
        "sector": {"type": "string", "minLength": 1, "maxLength": 120},
        "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
        "evidence_keywords": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 15},
    },
}

MESSAGE_SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["summary", "keywords"],
    "properties": {
        "summary": {"type": "string", "minLength": 1, "maxLength": 400},
        "keywords": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 60},
            "minItems": 3,
            "maxItems": 7,
        },
    },
}

INTENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["label", "confidences"],
    "properties": {
        "label": {"type": "string", "enum": list(INTENT_LABELS)},
        "confidences": {
            "type": "object",
            "additionalProperties": False,
            "required": list(INTENT_LABELS),
            # No numeric bounds: grammar-constrained decoding (llama.cpp) cannot enforce them on numbers, and the
            # pipeline clips and renormalizes the values anyway.
            "properties": {name: {"type": "number"} for name in INTENT_LABELS},
        },
    },
}

_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)
# Reasoning models served by Ollama/vLLM may prefix the answer with their thoughts.
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


class JSONContentError(ValueError):
    """The answer is not a JSON object."""


class SchemaViolation(ValueError):
    """The answer is JSON but does not satisfy the schema."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors


def parse_json_object(text: str | None) -> dict[str, Any]:
    """Parse a model answer into a JSON object, tolerating code fences and a leading <think> block."""
    if text is None or not text.strip():
        raise JSONContentError("empty answer")
    candidate = _THINK.sub("", text).strip()
    fenced = _FENCE.match(candidate)
    if fenced:
        candidate = fenced.group(1).strip()
    try:
        value = json.loads(candidate)
    except json.JSONDecodeError as first_error:
        start, end = candidate.find("{"), candidate.rfind("}")
        if start == -1 or end <= start:
            raise JSONContentError(f"not JSON: {first_error.msg} at char {first_error.pos}") from None
        try:
            value = json.loads(candidate[start : end + 1])
        except json.JSONDecodeError as error:
            raise JSONContentError(f"not JSON: {error.msg} at char {error.pos}") from None
    if not isinstance(value, dict):
        raise JSONContentError(f"expected a JSON object, got {type(value).__name__}")
    return value


def check_schema(schema: dict[str, Any]) -> None:
    """Raise ``jsonschema.SchemaError`` for a schema that is itself invalid (a programming error)."""
    jsonschema.Draft202012Validator.check_schema(schema)


def _describe(error: jsonschema.ValidationError) -> str:
    # Built from the path and the schema keyword only: jsonschema's own message quotes the
    # offending value, i.e. model output that may repeat message text, and errors are stored.
    path = "/".join(str(p) for p in error.absolute_path) or "<root>"
    rule = json.dumps(error.validator_value, ensure_ascii=False, default=str)
    if len(rule) > 80:
        rule = rule[:77] + "..."
    return f"{path}: fails {error.validator}={rule}"


def validate(value: Any, schema: dict[str, Any]) -> None:
    """Raise ``SchemaViolation`` listing every error (path: rule), or return None."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        described = [_describe(e) for e in errors]
        raise SchemaViolation("answer does not match the schema: " + "; ".join(described[:5]), described)

# Entity extraction (``entity_extraction.md``); kinds as in ``telegram_intel.lib.entities.ENTITY_KINDS``.
ENTITY_EXTRACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["entities"],
    "properties": {
        "entities": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind", "name"],
                "properties": {
                    "kind": {"type": "string", "enum": ["person", "topic", "organization", "project"]},
                    "name": {"type": "string", "minLength": 1, "maxLength": 80},
                },
            },
        }
    },
}
