"""The voice-insight mode registry: which analyses run on a transcript, each with its own prompt, model and
JSON schema (seed 004: DEFAULT and TONE), plus the offline method for DEFAULT.

A mode is configuration, not code. Add one in a YAML or JSON file (``load_registry(file=...)``, the asset's
``modes_file`` config or ``$TELEGRAM_INTEL_VOICE_MODES_FILE``)::

    modes:
      RISK:
        prompt: voice_risk            # prompts/voice_risk.md, or a path to a .md file (relative to this file)
        model: gpt-4o-mini            # or "default": the llm resource's model
        schema:                       # a JSON Schema (type object), or a shipped name: voice_default / voice_tone
          type: object
          required: [risk]
          properties: {risk: {type: string}}
        temperature: 0.2              # optional: temperature, max_tokens, timeout_s, description, enabled
        offline: null                 # or "extractive" (the DEFAULT offline method)

Every mode is validated before anything runs (``ModeRegistry.validate``): the prompt file exists and parses,
uses ``{{transcript}}`` and no variable outside ``PROMPT_VARIABLES``; the schema is a valid JSON Schema of an
object; a model is set; the offline method is known. ``ModeRegistryError`` lists every problem at once.
No Dagster import here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from telegram_intel.lib import summaries
from telegram_intel.lib.language import resolve_lang

MODES_FILE_ENV = "TELEGRAM_INTEL_VOICE_MODES_FILE"
PROMPT_VARIABLES = frozenset({"transcript", "language", "duration_s"})
DEFAULT_MODEL = "default"  # a mode's model "default" = the llm resource's model
OFFLINE_METHODS = ("extractive",)
_MODE_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
_MODE_KEYS = {"prompt", "model", "schema", "temperature", "max_tokens", "timeout_s", "offline", "enabled",
              "description"}

DEFAULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["summary", "key_points", "actions"],
    "properties": {
        "summary": {"type": "string", "minLength": 1, "maxLength": 600},
        "key_points": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 400},
            "minItems": 1,
            "maxItems": 5,
        },
        "actions": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 400}, "maxItems": 10},
    },
}

TONE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["hidden_intent", "dominant_emotion", "emotion_intensity", "response_advice"],
    "properties": {
        "hidden_intent": {"type": "string", "minLength": 1, "maxLength": 600},
        "dominant_emotion": {"type": "string", "minLength": 1, "maxLength": 60},
        "emotion_intensity": {"type": "integer", "minimum": 0, "maximum": 10},
        "response_advice": {"type": "string", "minLength": 1, "maxLength": 800},
    },
}

SHIPPED_SCHEMAS: dict[str, dict[str, Any]] = {"voice_default": DEFAULT_SCHEMA, "voice_tone": TONE_SCHEMA}


class ModeRegistryError(ValueError):
    """The registry (or a mode in it) is not usable; ``problems`` lists each reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid voice mode configuration:\n- " + "\n- ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class VoiceMode:
    name: str
    prompt: str  # a shipped prompt name, or a path to a prompt .md file
    schema: dict[str, Any]
    model: str = DEFAULT_MODEL
    offline: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    timeout_s: float | None = None
    enabled: bool = True
    description: str = ""
    base_dir: str | None = None  # where a relative prompt path is resolved (the registry file's folder)

    @property
    def prompt_location(self) -> tuple[str, str | None]:
        """(prompt name, prompts directory or None for the shipped ones)."""
        if self.prompt.endswith(".md") or "/" in self.prompt or "\\" in self.prompt:
            path = Path(self.prompt).expanduser()
            if not path.is_absolute() and self.base_dir:
                path = Path(self.base_dir) / path
            return path.stem, str(path.parent)
        return self.prompt, None

    def resolved_model(self, default_model: str) -> str:
        return default_model if self.model == DEFAULT_MODEL else self.model


BUILTIN_MODES: tuple[VoiceMode, ...] = (
    VoiceMode(name="DEFAULT", prompt="voice_default", schema=DEFAULT_SCHEMA, offline="extractive",
              description="summary, 3-5 key points, actions", temperature=0.3),
    VoiceMode(name="TONE", prompt="voice_tone", schema=TONE_SCHEMA,
              description="hidden intent, dominant emotion, how best to answer", temperature=0.7),
)


@dataclass
class ModeRegistry:
    modes: dict[str, VoiceMode] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.modes

    def __getitem__(self, name: str) -> VoiceMode:
        return self.modes[name]

    def names(self) -> list[str]:
        return list(self.modes)

    def add(self, mode: VoiceMode) -> None:
        """Add or replace a mode (not validated until ``validate``)."""
        self.modes[mode.name] = mode

    def select(self, names: Iterable[str] | None) -> list[VoiceMode]:
        """The enabled modes named (all enabled ones for None); ``ModeRegistryError`` for unknown names."""
        if names is None:
            return [m for m in self.modes.values() if m.enabled]
        names = list(names)
        unknown = [n for n in names if n not in self.modes]
        if unknown:
            raise ModeRegistryError([f"unknown mode {n!r} (known: {', '.join(self.modes)})" for n in unknown])
        return [self.modes[n] for n in dict.fromkeys(names) if self.modes[n].enabled]

    def validate(self, names: Iterable[str] | None = None) -> list[VoiceMode]:
        """Check the named (default: all enabled) modes; return them or raise ``ModeRegistryError``."""
        selected = self.select(names)
        problems: list[str] = []
        for mode in selected:
            problems.extend(validate_mode(mode))
        if not selected:
            problems.append("no enabled mode selected")
        if problems:
            raise ModeRegistryError(problems)
        return selected


def validate_mode(mode: VoiceMode) -> list[str]:
    """Problems with one mode (empty when it is usable)."""
    from telegram_intel.llm.errors import PromptError
    from telegram_intel.llm.prompts import load_prompt
    from telegram_intel.llm.schemas import check_schema

    problems: list[str] = []
    where = f"mode {mode.name!r}"
    if not _MODE_NAME.match(mode.name or ""):
        problems.append(f"{where}: name must be UPPER_SNAKE_CASE (A-Z, 0-9, _; at most 32 characters)")
    if not isinstance(mode.model, str) or not mode.model.strip():
        problems.append(f"{where}: no model set (a model name, or 'default' for the llm resource's model)")
    name, directory = mode.prompt_location
    try:
        prompt = load_prompt(name, directory)
    except PromptError as exc:
        problems.append(f"{where}: prompt {mode.prompt!r}: {exc}")
    else:
        unknown = prompt.variables - PROMPT_VARIABLES
        if unknown:
            problems.append(f"{where}: prompt {mode.prompt!r} uses variables no mode is given: "
                            f"{', '.join(sorted(unknown))} (available: {', '.join(sorted(PROMPT_VARIABLES))})")
        if "transcript" not in prompt.variables:
            problems.append(f"{where}: prompt {mode.prompt!r} never uses {{{{transcript}}}}")
    if not isinstance(mode.schema, dict):
        problems.append(f"{where}: schema must be a JSON Schema object")
    else:
        try:
            check_schema(mode.schema)
        except Exception as exc:  # jsonschema.SchemaError and friends
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            problems.append(f"{where}: schema is not a valid JSON Schema: {first}")
        else:
            if mode.schema.get("type") != "object":
                problems.append(f"{where}: schema must describe an object (\"type\": \"object\")")
    if mode.offline is not None and mode.offline not in OFFLINE_METHODS:
        problems.append(f"{where}: unknown offline method {mode.offline!r} (known: {', '.join(OFFLINE_METHODS)})")
    if mode.offline == "extractive" and isinstance(mode.schema, dict):
        # the extractive method writes DEFAULT's keys: its answers must pass the mode's own schema
        from telegram_intel.llm.schemas import SchemaViolation, validate

        try:
            validate(extractive_insight("Please call me back. We need the report by Friday."), mode.schema)
        except SchemaViolation:
            problems.append(f"{where}: offline 'extractive' writes summary/key_points/actions, which this schema "
                            "rejects")
        except Exception:
            pass  # an invalid schema is reported above
    for key, value, kind in (("temperature", mode.temperature, (int, float)), ("max_tokens", mode.max_tokens, int),
                             ("timeout_s", mode.timeout_s, (int, float))):
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool) or value < 0):
            problems.append(f"{where}: {key} must be a non-negative number")
    return problems


def _mode_from_dict(name: str, data: Mapping[str, Any], base_dir: str | None, existing: VoiceMode | None,
                    problems: list[str]) -> VoiceMode | None:
    if not isinstance(data, Mapping):
        problems.append(f"mode {name!r}: expected a mapping of settings, got {type(data).__name__}")
        return None
    unknown = set(data) - _MODE_KEYS - {"name"}
    if unknown:
        problems.append(f"mode {name!r}: unknown settings {', '.join(sorted(unknown))} "
                        f"(known: {', '.join(sorted(_MODE_KEYS))})")
    values = {k: v for k, v in data.items() if k in _MODE_KEYS}
    schema = values.get("schema")
    if isinstance(schema, str):
        if schema not in SHIPPED_SCHEMAS:
            problems.append(f"mode {name!r}: unknown schema name {schema!r} (shipped: {', '.join(SHIPPED_SCHEMAS)}; "
                            "or give a JSON Schema object)")
            return None
        values["schema"] = SHIPPED_SCHEMAS[schema]
    if existing is not None:  # a file may override settings of a built-in mode (e.g. only its model)
        if "prompt" in values:
            values["base_dir"] = base_dir
        return replace(existing, **values)
    # a missing prompt/schema/model is reported by validate(), together with every other problem
    values.setdefault("prompt", "")
    values.setdefault("schema", {})
    values.setdefault("model", "")
    return VoiceMode(name=name, base_dir=base_dir, **values)


def _read_file(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(text)
    return json.loads(text)


def load_registry(
    file: str | Path | None = None,
    *,
    modes: Mapping[str, Mapping[str, Any]] | None = None,
    models: Mapping[str, str] | None = None,
    builtin: bool = True,
) -> ModeRegistry:
    """The built-in modes, then the modes of ``file`` (YAML/JSON), then ``modes`` (same shape, e.g. from Dagster
    config), then per-mode ``models`` overrides (``{"DEFAULT": "o3", "TONE": "gpt-4o"}``). Later sources add
    modes or override settings of earlier ones. Structural problems raise ``ModeRegistryError`` here; whether each
    mode is usable is checked by ``validate``."""
    registry = ModeRegistry({m.name: m for m in BUILTIN_MODES} if builtin else {})
    problems: list[str] = []
    sources: list[tuple[str, Any, str | None]] = []
    if file:
        path = Path(file).expanduser()
        try:
            data = _read_file(path)
        except FileNotFoundError:
            raise ModeRegistryError([f"modes file {path} not found"]) from None
        except Exception as exc:
            raise ModeRegistryError([f"modes file {path} is not valid {path.suffix.lstrip('.') or 'JSON'}: "
                                     f"{exc}"]) from None
        sources.append((str(path), data, str(path.resolve().parent)))
    if modes:
        sources.append(("config", {"modes": dict(modes)}, None))
    for origin, data, base_dir in sources:
        entries = data.get("modes") if isinstance(data, Mapping) else None
        if isinstance(entries, list):
            listed: dict[str, Any] = {}
            for item in entries:
                if not isinstance(item, Mapping) or not item.get("name"):
                    problems.append(f"{origin}: every entry of the modes list needs a name")
                    continue
                listed[str(item["name"])] = item
            entries = listed
        if not isinstance(entries, Mapping):
            problems.append(f"{origin}: expected a top-level 'modes' mapping (or list) of mode settings")
            continue
        for name, settings in entries.items():
            mode = _mode_from_dict(str(name), settings, base_dir, registry.modes.get(str(name)), problems)
            if mode is not None:
                registry.add(mode)
    for name, model in (models or {}).items():
        if name not in registry:
            problems.append(f"model override for unknown mode {name!r}")
        else:
            registry.add(replace(registry[name], model=model))
    if problems:
        raise ModeRegistryError(problems)
    return registry


# ---------------------------------------------------------------------------------------------------------------
# Offline DEFAULT: extractive

EXTRACTIVE_METHOD = "offline:extractive@1"
FALLBACK_SUFFIX = "+llm-fallback"

# Sentences that ask for or promise an action, in ru / en / tr.
_ACTION_CUES = re.compile(
    r"\b(please|pls|could you|can you|would you|need(?:s)? to|have to|has to|must|let'?s|don'?t forget|remember to|"
    r"make sure|send|call|check|prepare|review|book|pay|bring|fix|update|schedule|i(?:'ll| will)|we(?:'ll| will)|"
    r"by (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight|the end of)|"
    r"пожалуйста|нужно|надо|необходимо|не забудь\w*|давай\w*|сделай\w*|пришли\w*|отправь\w*|позвони\w*|"
    r"проверь\w*|подготов\w*|посмотри\w*|напиши\w*|сделаю|пришлю|отправлю|позвоню|до (?:понедельника|вторника|"
    r"среды|четверга|пятницы|субботы|воскресенья|завтра|конца)|"
    r"lütfen|gerek\w*|lazım|yapalım|gönder\w*|ara(?:r mısın|yın|)\b|kontrol et\w*|hazırla\w*|unutma\w*)\b",
    re.IGNORECASE,
)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+|\n+")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_SPLIT.split(" ".join(text.split())) if s.strip()]


def extractive_insight(text: str, language: str | None = None, *, max_points: int = 5) -> dict[str, Any]:
    """DEFAULT without an LLM: the extractive summary of ``lib.summaries``, the transcript's most informative
    sentences as key points (keyword phrases fill up to three when it has fewer sentences), and the sentences
    that carry an action cue ("please send…", "нужно…", "lütfen…") as actions. Never empty for a non-empty
    transcript; matches ``DEFAULT_SCHEMA``."""
    text = " ".join((text or "").split())
    lang = resolve_lang(text, language)
    summary = summaries.summarize(text, lang, max_chars=400) or text[:400] or "(empty)"
    sentences = _sentences(text)
    keywords = summaries.extract_keywords(text, lang, min_k=3, max_k=7)
    key = {k.lower() for k in keywords}

    def score(i: int) -> tuple[float, int]:
        words = re.findall(r"[^\W_]+", sentences[i].lower())
        hits = sum(1 for k in key if k in sentences[i].lower())
        return (-(hits + 0.01 * min(len(words), 30)), i)

    # greetings and fillers ("Привет.", "Ok.") are no key points while the transcript has anything else
    informative = [i for i in range(len(sentences)) if summaries._content_words(sentences[i], lang) > 0]
    ranked = sorted(informative or range(len(sentences)), key=score)[:max_points]
    points = [summaries.truncate(sentences[i], 300) for i in sorted(ranked)]
    if len(points) < 3:
        for k in keywords:
            if len(points) >= 3:
                break
            if not any(k.lower() in p.lower() for p in points):
                points.append(k)
    if not points:
        points = [summaries.truncate(text, 300) or "(empty)"]
    actions = [summaries.truncate(s, 300) for s in sentences if _ACTION_CUES.search(s)][:10]
    return {"summary": summaries.truncate(summary, 600), "key_points": points[:max_points], "actions": actions}
