"""The API's JSON parser: DRF's, refusing text that no column can store.

PostgreSQL cannot store U+0000 in text or jsonb, and no UTF-8 database can store a lone UTF-16
surrogate (JSON allows "\\ud800"); either would surface as a 500 on the first write (found by
tests/security/test_schema_fuzz.py). Refusing them here keeps every view's input storable, with
a 400 that names where the bad string was.
"""

from __future__ import annotations

from typing import Any

from rest_framework.parsers import JSONParser

from config.api.errors import ValidationFailed


def unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return True
    return False


def unstorable_path(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) that cannot be stored, or None."""
    if isinstance(value, str):
        return path if unstorable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if unstorable(str(key)):
                return where
            found = unstorable_path(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def refuse_unstorable(value: Any) -> None:
    """400 validation_error if any string in `value` holds NUL or a lone surrogate."""
    where = unstorable_path(value)
    if where is not None:
        shown = where.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\u0000")
        raise ValidationFailed([(shown, "must be text without NUL (U+0000) or lone surrogates")])


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        refuse_unstorable(data)
        return data
