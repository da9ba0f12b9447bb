"""Errors raised by the LLM layer. Messages never contain the API key or prompt text."""

from __future__ import annotations


class LLMError(Exception):
    """Base class. ``attempts`` is how many HTTP requests the call made."""

    def __init__(self, message: str, *, attempts: int = 0) -> None:
        super().__init__(message)
        self.attempts = attempts


class LLMDisabledError(LLMError):
    """No LLM is configured: callers use their offline method."""


class PromptError(LLMError):
    """A prompt file is missing, malformed, or a template variable was not given."""


class LLMRequestError(LLMError):
    """The server refused the request for a reason retrying cannot fix (400, 401, 403, 404, ...)."""

    def __init__(self, message: str, *, status_code: int | None = None, attempts: int = 0) -> None:
        super().__init__(message, attempts=attempts)
        self.status_code = status_code


class LLMRateLimitError(LLMError):
    """429 whose Retry-After is longer than the client is willing to sleep, or 429s until attempts ran out."""

    def __init__(self, message: str, *, retry_after: float | None = None, attempts: int = 0) -> None:
        super().__init__(message, attempts=attempts)
        self.retry_after = retry_after


class LLMUnavailableError(LLMError):
    """5xx, timeouts or connection errors until the attempts ran out."""


class LLMResponseError(LLMError):
    """The model kept answering with text that is not JSON or not valid for the schema."""
