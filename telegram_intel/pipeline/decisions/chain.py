"""``llm_chain``: several stages, each a different prompt and (configurable) model, each answer JSON-schema
validated by the LLM layer before the next stage sees it: extract (facts) → enrich (title, summary, tags) → format
(the reply text the bot sends). Models per stage: ``TELEGRAM_INTEL_DECISIONS_CHAIN_MODELS=extract=…,enrich=…,
format=…``. Offered only when an LLM endpoint is configured (there is no offline method for free-form writing)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from telegram_intel.lib.decisions import CHAIN_ARGUMENTS, LLM_CHAIN
from telegram_intel.llm.errors import LLMError
from telegram_intel.pipeline.decisions.actions import Action, ActionError, ExecContext, PlanContext

EXTRACT_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["language", "facts"],
    "properties": {"language": {"type": "string", "maxLength": 8},
                   "facts": {"type": "array", "maxItems": 50, "items": {
                       "type": "object", "required": ["name", "value"],
                       "properties": {"name": {"type": "string"}, "value": {"type": ["string", "number"]}}}}},
}
ENRICH_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["title", "summary", "tags"],
    "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 200},
                   "summary": {"type": "string", "minLength": 1, "maxLength": 2000},
                   "tags": {"type": "array", "maxItems": 6, "items": {"type": "string", "maxLength": 40}}},
}
FORMAT_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["text"],
    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 1000}},
}
STAGES = (("extract", "decision_chain_extract", EXTRACT_SCHEMA, "facts"),
          ("enrich", "decision_chain_enrich", ENRICH_SCHEMA, "note"),
          ("format", "decision_chain_format", FORMAT_SCHEMA, None))


class LLMChainAction(Action):
    name = LLM_CHAIN
    description = ("Write a structured note about the message (facts → titled summary with tags → a formatted "
                   "reply) when the user wants the content organised rather than a product or an order. "
                   "Arguments: goal (optional).")
    arguments_schema = CHAIN_ARGUMENTS
    side_effects = False

    def available(self) -> bool:
        return self.settings.primary.is_enabled or bool(self.settings.fallback and self.settings.fallback.is_enabled)

    def plan(self, ctx: PlanContext) -> dict[str, Any]:
        return {"input": ctx.text, "goal": str(ctx.decision.arguments.get("goal") or ""),
                "stages": [{"stage": s, "prompt": p, "model": self.settings.chain_models.get(s)}
                           for s, p, _, _ in STAGES]}

    def summary(self, payload: Mapping[str, Any]) -> str:
        return "LLM chain: " + " → ".join(s["stage"] for s in payload["stages"])

    def execute(self, payload: Mapping[str, Any], ctx: ExecContext) -> dict[str, Any]:
        if ctx.llm is None or not ctx.llm.online:
            raise ActionError("llm_chain: no LLM endpoint configured (TELEGRAM_INTEL_LLM_BASE_URL / _API_KEY)")
        schemas = {s: (schema, var) for s, _, schema, var in STAGES}
        variables: dict[str, Any] = {"text": payload["input"], "goal": payload.get("goal") or ""}
        stages: list[dict[str, Any]] = []
        data: dict[str, Any] = {}
        for stage in payload["stages"]:
            schema, next_var = schemas[stage["stage"]]
            try:
                result, provider = ctx.llm.complete(stage["prompt"], variables, schema, model=stage.get("model"),
                                                    tags={**ctx.tags, "stage": stage["stage"]})
            except LLMError as error:
                raise ActionError(f"llm_chain: stage {stage['stage']} failed: {error}", transient=True) from None
            data = result.data
            stages.append({"stage": stage["stage"], "model": result.model, "provider": provider,
                           "llm_call_id": result.call_id, "tokens": result.total_tokens})
            if next_var:
                variables = {next_var: json.dumps(data, ensure_ascii=False), "goal": variables["goal"]}
        return {"text": data["text"], "stages": stages}
