"""The action registry: what a decision can do.

An action is a class with a ``name``, a ``description`` and an ``arguments_schema`` (both go into the routing
prompt), a ``plan`` that turns a decision into the exact payload to send (stored before anything is sent, so
approval, dry runs and retries all use the same payload), and an ``execute`` that sends it. Adding one is a class
and a config entry: ``TELEGRAM_INTEL_DECISIONS_ACTIONS=my_action=my_package.actions:MyAction``.

``execute`` raises ``ActionError``: ``transient=True`` (5xx, 429, timeouts, connection errors) is retried with
backoff by the engine; anything else fails the outcome at once with the error stored and shown.
"""

from __future__ import annotations

import importlib
import ipaddress
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
import jsonschema

from telegram_intel.lib.decisions import ASK_FOLLOWUP, FOLLOWUP_ARGUMENTS, Decision
from telegram_intel.pipeline.decisions.config import DecisionConfigError, DecisionSettings

log = logging.getLogger(__name__)


class ActionError(Exception):
    """An action failed; the message names the service and the problem (never a credential)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class StoredMedia:
    """A validated file of the unit, kept under the storage folder so an action can still send it after approval,
    a retry or a restart."""

    path: str
    mime: str
    sha256: str
    size: int
    file_name: str | None = None
    kind: str = "photo"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PlanContext:
    decision: Decision
    key: str  # the unit's idempotency key
    decision_id: int
    created_at: datetime
    text: str
    media: Sequence[StoredMedia] = ()


@dataclass
class ExecContext:
    decision_id: int
    key: str
    # The LLM chain's clients by stage model (None offline); set by the engine.
    llm: Any = None
    tags: dict[str, Any] = field(default_factory=dict)


class Action:
    name: ClassVar[str]
    description: ClassVar[str]
    arguments_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    #: Whether running it changes something outside (the approve mode asks first only for these).
    side_effects: ClassVar[bool] = True

    def __init__(self, settings: DecisionSettings) -> None:
        self.settings = settings

    def available(self) -> bool:
        """Whether it is configured well enough to be offered to the router."""
        return True

    def check_arguments(self, arguments: Mapping[str, Any]) -> None:
        try:
            jsonschema.validate(dict(arguments), self.arguments_schema)
        except jsonschema.ValidationError as error:
            where = "/".join(map(str, error.absolute_path)) or "(root)"
            raise ActionError(f"{self.name}: arguments invalid at {where}: {error.message}") from None

    def plan(self, ctx: PlanContext) -> dict[str, Any]:
        raise NotImplementedError

    def execute(self, payload: Mapping[str, Any], ctx: ExecContext) -> dict[str, Any]:
        raise NotImplementedError

    def summary(self, payload: Mapping[str, Any]) -> str:
        """One line for the approval message and the audit UI."""
        return self.name


class FollowupAction(Action):
    """A Telegram reply with a question and an inline keyboard of the actions to choose from; the bot sends it and
    keeps the conversation (``decision_conversations``) until the user answers."""

    name = ASK_FOLLOWUP
    description = ("Ask the user what to do when the message is ambiguous or lacks details. Arguments: question "
                   "(short, in the user's language), options (action names to offer).")
    arguments_schema = FOLLOWUP_ARGUMENTS
    side_effects = False

    def plan(self, ctx: PlanContext) -> dict[str, Any]:
        return {"question": ctx.decision.arguments.get("question") or "What should I do with this?",
                "options": list(ctx.decision.arguments.get("options") or [])}

    def execute(self, payload: Mapping[str, Any], ctx: ExecContext) -> dict[str, Any]:
        return dict(payload)  # delivered by the bot


BUILTIN_ACTIONS: dict[str, str] = {
    "woocommerce_draft_product": "telegram_intel.pipeline.decisions.woocommerce:DraftProductAction",
    "spreadsheet_row": "telegram_intel.pipeline.decisions.spreadsheet:SpreadsheetRowAction",
    "llm_chain": "telegram_intel.pipeline.decisions.chain:LLMChainAction",
    ASK_FOLLOWUP: "telegram_intel.pipeline.decisions.actions:FollowupAction",
}


def _load_class(name: str, target: str) -> type[Action]:
    module_name, sep, attr = target.partition(":")
    if not sep:
        raise DecisionConfigError(f"action {name!r}: expected package.module:Class, got {target!r}")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as error:
        raise DecisionConfigError(f"action {name!r}: cannot load {target!r}: {error}") from None
    if not (isinstance(cls, type) and issubclass(cls, Action)):
        raise DecisionConfigError(f"action {name!r}: {target!r} is not an Action class")
    if getattr(cls, "name", None) != name:
        raise DecisionConfigError(f"action {name!r}: {target} declares name {getattr(cls, 'name', None)!r}")
    return cls


class ActionRegistry:
    """The built-in actions plus ``settings.extra_actions``, each instantiated with the settings."""

    def __init__(self, settings: DecisionSettings, extra: Mapping[str, type[Action]] | None = None) -> None:
        self.settings = settings
        self._actions: dict[str, Action] = {}
        for name, target in {**BUILTIN_ACTIONS, **settings.extra_actions}.items():
            self._actions[name] = _load_class(name, target)(settings)
        for name, cls in (extra or {}).items():
            self._actions[name] = cls(settings)

    def get(self, name: str) -> Action:
        try:
            return self._actions[name]
        except KeyError:
            raise ActionError(f"unknown action {name!r} (known: {', '.join(sorted(self._actions))})") from None

    def names(self) -> list[str]:
        return sorted(self._actions)

    def offered(self) -> list[Action]:
        """The actions the router may choose: configured ones, and always the follow-up question."""
        return [a for n, a in sorted(self._actions.items()) if a.available()]


# -- HTTP helpers shared by the web-service actions ----------------------------------------------------------------

def require_https(url: str, what: str) -> None:
    """Credentials travel in headers, so only HTTPS — except to loopback (local development, contract tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme == "http" and loopback:
        return
    raise ActionError(f"{what}: {url!r} is not HTTPS; credentials are only sent over HTTPS")


def call(client: httpx.Client, method: str, url: str, what: str, *, ok: Sequence[int] = (200, 201),
         **kwargs: Any) -> Any:
    """One request; the JSON answer, or ``ActionError`` (transient for 408/409/425/429/5xx and network errors)."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise ActionError(f"{what}: timed out", transient=True) from None
    except httpx.TransportError as error:
        raise ActionError(f"{what}: connection failed ({type(error).__name__})", transient=True) from None
    if response.status_code not in ok:
        transient = response.status_code in (408, 409, 425, 429) or response.status_code >= 500
        detail = ""
        try:
            body = response.json()
            if isinstance(body, dict):
                err = body.get("error")
                detail = str((err.get("message") if isinstance(err, dict) else None) or body.get("message")
                             or body.get("code") or "")
        except ValueError:
            pass
        raise ActionError(f"{what}: HTTP {response.status_code}{': ' + detail[:200] if detail else ''}",
                          transient=transient)
    try:
        return response.json()
    except ValueError:
        raise ActionError(f"{what}: answer is not JSON", transient=True) from None

