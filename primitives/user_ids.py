"""What counts as a user id, literal or rendered: a positive integer, or a string of ASCII
digits. One rule for a record's user fields (every entrance) and for an action's config
(send_notification's `user_id`, at save and at run)."""

from __future__ import annotations

from typing import Any

# Ids are BigAutoField: a larger number is no user, and would fail the database query.
MAX_ID = 2**63 - 1


def user_id_value(value: Any) -> int | None:
    """The user id `value` stands for, or None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        # isascii + isdigit: not "²" or "١٢", which str.isdigit accepts and int() refuses or
        # reads as another number; 19 digits at most, before int() meets a huge string.
        if not (text.isascii() and text.isdigit() and len(text) <= 19):
            return None
        value = int(text)
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    return None
