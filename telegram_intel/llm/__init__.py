"""The LLM layer: prompts in files, an OpenAI-compatible client with JSON-schema-validated
answers, retries, rate limits and per-call accounting. No Dagster import here; the resource
lives in ``telegram_intel.defs.resources``."""

from telegram_intel.llm.accounting import (
    CallRecorder,
    LLMCallRecord,
    MemoryRecorder,
    ModelPrice,
    NullRecorder,
    PriceTable,
)
from telegram_intel.llm.client import LLMClient, LLMResult
from telegram_intel.llm.config import LLMSettings, build_client, load_llm_settings
from telegram_intel.llm.errors import (
    LLMDisabledError,
    LLMError,
    LLMRateLimitError,
    LLMRequestError,
    LLMResponseError,
    LLMUnavailableError,
    PromptError,
)
from telegram_intel.llm.prompts import Prompt, available_prompts, load_prompt
from telegram_intel.llm.ratelimit import RateLimiter
from telegram_intel.llm.retry import RetryPolicy
from telegram_intel.llm.schemas import (
    INTENT_LABELS,
    INTENT_SCHEMA,
    MESSAGE_SUMMARY_SCHEMA,
    USER_JOB_PROFILE_SCHEMA,
)

__all__ = [
    "INTENT_LABELS",
    "INTENT_SCHEMA",
    "CallRecorder",
    "LLMCallRecord",
    "LLMClient",
    "LLMDisabledError",
    "LLMError",
    "LLMRateLimitError",
    "LLMRequestError",
    "LLMResponseError",
    "LLMResult",
    "LLMSettings",
    "LLMUnavailableError",
    "MESSAGE_SUMMARY_SCHEMA",
    "MemoryRecorder",
    "ModelPrice",
    "NullRecorder",
    "PriceTable",
    "Prompt",
    "PromptError",
    "RateLimiter",
    "RetryPolicy",
    "USER_JOB_PROFILE_SCHEMA",
    "available_prompts",
    "build_client",
    "load_llm_settings",
    "load_prompt",
]
