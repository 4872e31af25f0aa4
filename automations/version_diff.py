"""A side-by-side comparison of two saved definitions, part by part.

Each part (trigger, conditions, actions, error handling, ...) is pretty-printed as JSON with
sorted keys, so that the same definition always prints the same lines, and the two texts are
aligned by difflib. Plain Python: the page only lays out the rows.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any, Literal

# The parts in the order the builder shows them, with the words the page uses.
PARTS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("description", "Description"),
    ("trigger", "Trigger"),
    ("conditions", "Conditions"),
    ("actions", "Actions"),
    ("error_handling", "When it fails"),
    ("timezone", "Timezone"),
)

RowKind = Literal["same", "changed", "removed", "added"]


@dataclass(frozen=True)
class DiffRow:
    """One line of each side; a side is None where the other has a line it lacks."""

    kind: RowKind
    left_number: int | None
    left: str | None
    right_number: int | None
    right: str | None


@dataclass(frozen=True)
class PartDiff:
    key: str
    label: str
    changed: bool
    rows: list[DiffRow]


def _lines(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.splitlines() or [""]
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def _rows(left: list[str], right: list[str]) -> list[DiffRow]:
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [
                DiffRow("same", i + 1, left[i], j + 1, right[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        # A replaced block pairs its lines side by side; the longer side's rest stands alone.
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            has_left, has_right = i < i2, j < j2
            kind: RowKind = (
                "changed" if has_left and has_right else "removed" if has_left else "added"
            )
            rows.append(
                DiffRow(
                    kind,
                    i + 1 if has_left else None,
                    left[i] if has_left else None,
                    j + 1 if has_right else None,
                    right[j] if has_right else None,
                )
            )
    return rows


def definition_diff(left: dict[str, Any], right: dict[str, Any]) -> list[PartDiff]:
    """Every part of the two definitions, each with its aligned rows and whether it changed."""
    parts = []
    for key, label in PARTS:
        left_lines, right_lines = _lines(left.get(key)), _lines(right.get(key))
        parts.append(
            PartDiff(
                key=key,
                label=label,
                changed=left_lines != right_lines,
                rows=_rows(left_lines, right_lines),
            )
        )
    return parts
