"""The API's JSON parser: DRF's, with the service's one JSON policy (primitives/jsonpolicy.py).

Text that is not JSON stays DRF's 400 invalid_json; JSON the policy refuses (nesting deeper
than the bound, NaN/Infinity/1e400, integers beyond Python's digit limit, NUL or lone
surrogates) is 400 validation_error naming the path of the value. Before this, such bodies
reached a recursive validator (RecursionError) or PostgreSQL (which refuses them): 500s found
by tests/security/test_schema_fuzz.py.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from config.errors import DomainError, ValidationFailed
from primitives import jsonpolicy


def refusal(err: jsonpolicy.JSONRefused, *, under: str = "") -> DomainError:
    """The API's answer to JSON the policy refuses; `under` prefixes the path (the part of the
    request the JSON came in, e.g. an inbound webhook's `body`)."""
    if err.malformed:
        return DomainError("invalid_json", f"JSON parse error - {err.message}")
    path = err.path
    if under:
        path = f"{under}{path}" if path.startswith("[") else ".".join(p for p in (under, path) if p)
    return ValidationFailed([(path, err.message)])


def enforce_json_policy(value: Any) -> None:
    """400 validation_error if `value` (parsed elsewhere) breaks the JSON policy."""
    try:
        jsonpolicy.check(value)
    except jsonpolicy.JSONRefused as err:
        raise refusal(err) from None


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(f"JSON parse error - the body is not {encoding} text") from None
        try:
            return jsonpolicy.loads(text)
        except jsonpolicy.JSONRefused as err:
            raise refusal(err) from None
