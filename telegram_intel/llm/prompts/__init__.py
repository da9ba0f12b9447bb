"""Prompt files and their loader.

A prompt file is ``<name>.md``: an HTML comment header (what the prompt is for, its variables,
and whether it needs an API key), then a ``## system`` and a ``## user`` section. Variables are
written ``{{name}}``; rendering fails with ``PromptError`` naming every variable not given.
Non-string values are inserted as JSON. Substitution is single-pass, so ``{{...}}`` inside a
value (e.g. a chat message) is left as is.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram_intel.llm.errors import PromptError

PROMPTS_DIR = Path(__file__).resolve().parent

_NAME = re.compile(r"^[a-z0-9_]+$")
_HEADER = re.compile(r"\A\s*<!--(.*?)-->", re.DOTALL)
_SECTION = re.compile(r"^## (system|user)\s*$", re.MULTILINE)
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class Prompt:
    name: str
    system: str
    user: str
    header: dict[str, str] = field(default_factory=dict)
    # Short hash of the file: stored with each call and usable in row metadata, so a changed
    # prompt is visible as a different method/version.
    version: str = ""

    @property
    def variables(self) -> set[str]:
        return set(_VARIABLE.findall(self.system)) | set(_VARIABLE.findall(self.user))

    @property
    def requires_api_key(self) -> bool:
        return "api key" in self.header.get("requires", "").lower()

    def render(self, variables: dict[str, Any] | None = None) -> list[dict[str, str]]:
        """Chat messages with every ``{{var}}`` replaced."""
        variables = variables or {}
        missing = sorted(self.variables - set(variables))
        if missing:
            raise PromptError(f"prompt {self.name!r} needs variables that were not given: {', '.join(missing)}")

        def value(match: re.Match[str]) -> str:
            item = variables[match.group(1)]
            return item if isinstance(item, str) else json.dumps(item, ensure_ascii=False, default=str)

        messages = []
        if self.system:
            messages.append({"role": "system", "content": _VARIABLE.sub(value, self.system)})
        messages.append({"role": "user", "content": _VARIABLE.sub(value, self.user)})
        return messages


def parse_prompt(name: str, text: str) -> Prompt:
    header: dict[str, str] = {}
    match = _HEADER.match(text)
    body = text
    if match:
        body = text[match.end() :]
        key = None
        for line in match.group(1).splitlines():
            entry = re.match(r"^\s*([a-z_]+):\s*(.*)$", line)
            if entry:
                key = entry.group(1)
                header[key] = entry.group(2).strip()
            elif key and line.strip():
                header[key] = (header[key] + " " + line.strip()).strip()
    parts = _SECTION.split(body)
    # parts: [before, role, content, role, content, ...]
    sections: dict[str, str] = {}
    for role, content in zip(parts[1::2], parts[2::2]):
        if role in sections:
            raise PromptError(f"prompt {name!r} has two '## {role}' sections")
        sections[role] = content.strip()
    if "user" not in sections:
        raise PromptError(f"prompt {name!r} has no '## user' section")
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return Prompt(name=name, system=sections.get("system", ""), user=sections["user"], header=header, version=version)


def load_prompt(name: str, directory: str | Path | None = None) -> Prompt:
    """Load ``<directory>/<name>.md`` (the shipped prompts by default)."""
    if not _NAME.match(name):
        raise PromptError(f"invalid prompt name {name!r} (lowercase letters, digits and _ only)")
    path = Path(directory or PROMPTS_DIR) / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"prompt {name!r} not found at {path}") from None
    return parse_prompt(name, text)


def available_prompts(directory: str | Path | None = None) -> list[str]:
    return sorted(p.stem for p in Path(directory or PROMPTS_DIR).glob("*.md") if _NAME.match(p.stem))
