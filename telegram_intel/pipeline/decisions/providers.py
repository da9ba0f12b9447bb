"""The provider chain: primary endpoint → fallback endpoint → offline rule-based router.

Each endpoint is an ``LLMClient`` (its own retries, rate limits and ``llm_calls`` accounting); when one fails after
its retries (unavailable, rate limited, refusing, answering invalid JSON, or choosing an action with arguments its
schema rejects), the next is asked; when all failed, or none is configured, ``lib.decisions.route_offline`` decides.
Units with images go to the vision model with the images as ``image_url`` parts (base64 ``data:`` URLs).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from telegram_intel.lib.decisions import Decision, IncomingUnit, decision_schema, parse_decision, route_offline
from telegram_intel.llm.accounting import CallRecorder
from telegram_intel.llm.client import LLMClient, LLMResult
from telegram_intel.llm.config import LLMSettings, build_client
from telegram_intel.llm.errors import LLMError
from telegram_intel.pipeline.decisions.actions import Action, ActionError
from telegram_intel.pipeline.decisions.config import DecisionSettings

log = logging.getLogger(__name__)

ROUTE_PROMPT = "decision_route"


@dataclass
class Provider:
    name: str  # primary | fallback
    client: LLMClient
    vision_model: str | None = None


@dataclass
class Routed:
    decision: Decision
    attempts: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)

    def add_usage(self, result: LLMResult) -> None:
        self.prompt_tokens += result.prompt_tokens
        self.completion_tokens += result.completion_tokens
        self.cost_usd += result.cost_usd


class AllProvidersFailed(LLMError):
    """Every configured endpoint failed (the chain action has no offline method)."""


class ProviderChain:
    def __init__(self, providers: Sequence[Provider] = ()) -> None:
        self.providers = list(providers)

    @classmethod
    def from_settings(cls, settings: DecisionSettings, recorder: CallRecorder | None = None,
                      *, tags: Mapping[str, Any] | None = None) -> ProviderChain:
        providers = []
        for name, llm in (("primary", settings.primary), ("fallback", settings.fallback)):
            if isinstance(llm, LLMSettings) and llm.is_enabled:
                client = build_client(llm, recorder, tags={**(tags or {}), "provider": name})
                providers.append(Provider(name, client, settings.vision_model if name == "primary" else None))
        return cls(providers)

    def close(self) -> None:
        for p in self.providers:
            p.client.close()

    @property
    def online(self) -> bool:
        return bool(self.providers)

    def route(self, unit: IncomingUnit, actions: Sequence[Action], *, images: Sequence[str] = (),
              tags: Mapping[str, Any] | None = None) -> Routed:
        """One decision for ``unit`` among ``actions``: the first endpoint whose answer is valid, else offline."""
        by_name = {a.name: a for a in actions}
        schema = decision_schema(sorted(by_name))
        variables = {
            "text": unit.text,
            "media": json.dumps(unit.describe()["media"], ensure_ascii=False),
            "actions": json.dumps([{"name": a.name, "description": a.description,
                                    "arguments": a.arguments_schema} for a in actions], ensure_ascii=False),
        }
        routed = Routed(decision=None)  # type: ignore[arg-type]
        for p in self.providers:
            model = (p.vision_model or p.client.model) if images else p.client.model
            attempt: dict[str, Any] = {"provider": p.name, "model": model, "images": len(images)}
            try:
                result = p.client.complete_json(ROUTE_PROMPT, variables, schema, model=model, images=images,
                                                tags=tags)
            except LLMError as error:
                attempt.update(status="error", error_kind=type(error).__name__, error=str(error)[:300])
                routed.attempts.append(attempt)
                log.warning("decision provider %s failed: %s", p.name, type(error).__name__)
                continue
            routed.add_usage(result)
            attempt.update(llm_call_id=result.call_id, prompt_tokens=result.prompt_tokens,
                           completion_tokens=result.completion_tokens, cost_usd=float(result.cost_usd))
            decision = parse_decision(result.data, method=f"llm:{p.name}:{model}")
            try:
                by_name[decision.action].check_arguments(decision.arguments)
            except ActionError as error:
                attempt.update(status="error", error_kind="invalid_arguments", error=str(error)[:300])
                routed.attempts.append(attempt)
                continue
            attempt["status"] = "ok"
            routed.attempts.append(attempt)
            routed.decision = decision
            return routed
        routed.decision = route_offline(unit, [a.name for a in actions])
        routed.attempts.append({"provider": "offline", "model": routed.decision.method, "status": "ok"})
        return routed

    def complete(self, prompt: str, variables: Mapping[str, Any], schema: dict[str, Any], *,
                 model: str | None = None, tags: Mapping[str, Any] | None = None) -> tuple[LLMResult, str]:
        """A validated answer from the first endpoint that gives one (stages of the LLM chain); ``model`` applies to
        the primary endpoint, the fallback keeps its own."""
        errors = []
        for p in self.providers:
            try:
                result = p.client.complete_json(prompt, variables, schema,
                                                model=model if p.name == "primary" else None, tags=tags)
                return result, p.name
            except LLMError as error:
                errors.append(f"{p.name}: {type(error).__name__}")
        raise AllProvidersFailed(f"{prompt}: no LLM endpoint answered ({'; '.join(errors) or 'none configured'})")
