"""The one JSON policy of every entrance: what JSON the service accepts, whoever sends it.

The API's parser, inbound webhooks, the builder's definition field, the admin's JSON fields and
validate_definition (so also seed_demo and anything else that saves a definition) all go
through here. Refused, each with the path of the first offending value and words a user reads:

* nesting deeper than MAX_DEPTH. json's C decoder raises RecursionError on very deep input and
  every recursive walker after it (validators, the dry run, template rendering, the executor)
  would too: nothing deeper than the bound is ever handed on.
* NaN, Infinity, -Infinity and literals that overflow a float (1e400). JSON has no such values
  and PostgreSQL's jsonb refuses them on the first write.
* integers longer than MAX_INT_DIGITS digits: Python refuses to convert them (a ValueError that
  surfaced as a 500), and no column or client could use them anyway.
* NUL (U+0000) and lone UTF-16 surrogates ("\\ud800"), in keys or values: PostgreSQL cannot
  store NUL in text or jsonb, and no UTF-8 database can store a lone surrogate.

Plain Python (no Django), so any layer may use it: `loads(text)` for raw text, `check(value)`
for values parsed elsewhere. Both raise JSONRefused.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

# Definitions are the deepest legitimate JSON: an action's config sits 4 levels down
# (definition > actions > action > config), branches will nest 3 levels of paths
# (branch > paths > path > actions > action: 4 levels each, 12 in all), condition groups inside
# them add at most 2 x MAX_GROUP_DEPTH (5) levels, and a call_webhook body or a webhook payload
# brings its own structure. That is under 30; 64 leaves room for real payloads and is far below
# Python's recursion limit (1000), so no walker can be made to overflow its stack.
MAX_DEPTH = 64
# Python's own bound on int <-> str conversion (sys.int_info.default_max_str_digits).
MAX_INT_DIGITS = 4300
_INT_LIMIT = 10**MAX_INT_DIGITS

NON_FINITE = "must be a finite number (NaN, Infinity and numbers beyond ±1.8e308 cannot be stored)"
TOO_LONG_INT = f"is a number with more than {MAX_INT_DIGITS} digits"
TOO_DEEP = f"nests deeper than {MAX_DEPTH} levels of objects and lists"
UNSTORABLE_TEXT = "must be text without NUL (U+0000) or lone surrogates"


class JSONRefused(ValueError):
    """JSON the service will not take. `malformed` is True for text that is not JSON at all
    (the API answers invalid_json); otherwise the value is JSON but breaks the policy
    (validation_error at `path`)."""

    def __init__(self, path: str, message: str, *, malformed: bool = False) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message
        self.malformed = malformed


class _Refused:
    """What the decoder's hooks put in place of a number the policy refuses, so that check()
    reports it with its path (the hooks cannot know where they are)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _parse_float(text: str) -> float | _Refused:
    value = float(text)
    return value if math.isfinite(value) else _Refused(NON_FINITE)


def _parse_int(text: str) -> int | _Refused:
    try:
        return int(text)
    except ValueError:  # longer than sys.get_int_max_str_digits()
        return _Refused(TOO_LONG_INT)


def _parse_constant(name: str) -> _Refused:  # NaN, Infinity, -Infinity
    return _Refused(NON_FINITE)


def loads(text: str | bytes) -> Any:
    """Parse JSON text and apply the policy; raise JSONRefused."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise JSONRefused("", "the body is not UTF-8 text", malformed=True) from None
    try:
        value = json.loads(
            text,
            parse_float=_parse_float,
            parse_int=_parse_int,
            parse_constant=_parse_constant,
        )
    except RecursionError:
        raise JSONRefused("", TOO_DEEP) from None
    except json.JSONDecodeError as err:
        where = f"{err.msg} (line {err.lineno}, column {err.colno})"
        raise JSONRefused("", f"not valid JSON: {where}", malformed=True) from None
    check(value)
    return value


def check(value: Any) -> None:
    """Apply the policy to an already parsed value; raise JSONRefused for the first problem.

    Iterative (an explicit stack), so even a value nested far deeper than Python's recursion
    limit is refused rather than overflowing the checker itself. Paths are only spelled out
    for the value refused: each entry links to its parent, which keeps a large body cheap.
    """
    root = _Node(value, None, None, 1)
    if not isinstance(value, _CONTAINERS):
        _check_scalar(value, root)
        return
    stack = [root]
    while stack:
        node = stack.pop()
        if node.depth > MAX_DEPTH:
            raise JSONRefused(node.path(), TOO_DEEP)
        depth = node.depth + 1
        items = node.item.items() if isinstance(node.item, dict) else enumerate(node.item)
        children: list[_Node] = []
        for key, child in items:
            if type(key) is str and not storable(key):
                raise JSONRefused(_Node(child, node, key, depth).path(), UNSTORABLE_TEXT)
            kind = type(child)
            # Exact-type fast paths first: a body is mostly these, and this loop is its cost.
            if kind is str:
                if not storable(child):
                    _check_scalar(child, node, key)
            elif kind is dict or kind is list or kind is tuple:
                children.append(_Node(child, node, key, depth))
            elif kind is float:
                if not math.isfinite(child):
                    _check_scalar(child, node, key)
            elif (
                child is None or kind is bool or (kind is int and -_INT_LIMIT < child < _INT_LIMIT)
            ):
                pass
            else:  # big ints, Decimals, subclasses, refused numbers
                _check_scalar(child, node, key)
        stack.extend(reversed(children))  # nested values in document order


_CONTAINERS = (dict, list, tuple)


def _check_scalar(value: Any, parent: _Node, key: str | int | None = None) -> None:
    problem = _scalar_problem(value)
    if problem is not None:
        where = parent if key is None else _Node(value, parent, key, parent.depth + 1)
        raise JSONRefused(where.path(), problem)


class _Node:
    __slots__ = ("depth", "item", "key", "parent")

    def __init__(self, item: Any, parent: _Node | None, key: str | int | None, depth: int):
        self.item, self.parent, self.key, self.depth = item, parent, key, depth

    def path(self) -> str:
        """`actions[0].config.body`, made printable (the key itself may hold the bad text)."""
        parts: list[str] = []
        node: _Node | None = self
        while node is not None and node.key is not None:
            parts.append(f"[{node.key}]" if isinstance(node.key, int) else f".{node.key}")
            node = node.parent
        path = "".join(reversed(parts)).removeprefix(".")
        return path.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\u0000")


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return None if storable(value) else UNSTORABLE_TEXT
    if value is None:
        return None
    if isinstance(value, _Refused):
        return value.message
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return TOO_LONG_INT if abs(value) >= _INT_LIMIT else None
    if isinstance(value, Decimal):
        return None if value.is_finite() else NON_FINITE
    if isinstance(value, float):
        return None if math.isfinite(value) else NON_FINITE
    return None


def storable(text: str) -> bool:
    """False for text holding NUL or a lone surrogate (no database column can hold it)."""
    if "\x00" in text:
        return False
    if text.isascii():  # the common case, and far cheaper than encoding
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def made_storable(text: str) -> str:
    """Text from outside that is only logged (a webhook receiver's answer), with what no column
    can hold replaced by U+FFFD, as undecodable bytes are: refusing it is not an option there."""
    if storable(text):
        return text
    return "".join("\ufffd" if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in text)
