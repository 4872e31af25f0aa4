"""The errors domain code raises: a code from the API's list, a message for people, an HTTP
status and details, in plain Python.

Services, selectors and the engine's entrances raise these without knowing about HTTP
frameworks; the API's one exception handler (config.api.errors) turns them into the error shape
`{"error": {"code", "message", "details"}}`, and the admin and the web pages catch them to show
the message (and, for ValidationFailed, each path's reasons beside its input).
"""

from __future__ import annotations

from typing import Any

Problems = list[tuple[str, str]] | dict[str, list[str]]


class DomainError(Exception):
    """A refusal with one of the API's error codes, e.g. `run_not_retryable` (409)."""

    def __init__(self, code: str, message: str, *, status: int = 400, details: Any = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details

    def __str__(self) -> str:
        return self.message


class ValidationFailed(DomainError):
    """400 `validation_error` with the exact path and reason of every problem found: `details`
    maps each path ("" for the whole input) to its reasons, and the message repeats the first."""

    def __init__(self, problems: Problems) -> None:
        details: dict[str, list[str]]
        if isinstance(problems, dict):
            details = {path: list(messages) for path, messages in problems.items()}
        else:
            details = {}
            for path, message in problems:
                details.setdefault(path, []).append(message)
        first_path, first_messages = next(iter(details.items()))
        super().__init__(
            "validation_error",
            f"{first_path}: {first_messages[0]}" if first_path else first_messages[0],
            details=details,
        )
        # Pickling rebuilds an exception from its args: the problems are this class's one.
        self.args = (details,)


def not_found(what: str, code: str = "not_found") -> DomainError:
    """404 "<what> not found": not_found("Log log_1"), not_found("Record r", "record_not_found")."""
    return DomainError(code, f"{what} not found", status=404)
