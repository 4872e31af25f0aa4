"""Page-number pagination with the seed's meta: {"total", "page", "per_page"}."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from config.errors import ValidationFailed
from primitives.numbers import shown

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
# Beyond this the OFFSET no longer fits PostgreSQL's bigint (a 500 found by fuzzing); no list
# is that long anyway.
MAX_PAGE = 1_000_000
_MAX_DIGITS = 18  # "0" * 17 + "5" is still 5; more digits than that is no page size or number


@dataclass(frozen=True)
class PageParams:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _positive_int(params: Any, name: str, default: int, maximum: int | None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    # ASCII digits only: int() would also take " 5", "+5" and Arabic-Indic or other digits.
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit():
        raise ValidationFailed([(name, f"must be a whole number, got {shown(raw)}")])
    # Longer than any maximum here, and int() refuses strings past 4,300 digits (a 500).
    if len(raw) > _MAX_DIGITS:
        raise ValidationFailed(
            [(name, f"must be at most {maximum if maximum is not None else MAX_PAGE}")]
        )
    value = int(raw)
    if value < 1:
        raise ValidationFailed([(name, "must be at least 1")])
    if maximum is not None and value > maximum:
        raise ValidationFailed([(name, f"must be at most {maximum}")])
    return value


def page_params(
    query_params: Any, *, per_page_name: str = "per_page", default_per_page: int = DEFAULT_PER_PAGE
) -> PageParams:
    return PageParams(
        page=_positive_int(query_params, "page", 1, MAX_PAGE),
        per_page=_positive_int(query_params, per_page_name, default_per_page, MAX_PER_PAGE),
    )


def paginate(
    queryset: QuerySet,
    params: PageParams,
    *,
    count: Callable[[], int] | None = None,
    fetch: Callable[[QuerySet], list] = list,
) -> tuple[list, dict]:
    """Return (items, meta); one COUNT query and one page query (none past the end).

    `count` gives the total instead of queryset.count() (e.g. from a cache); `fetch` reads the
    page's queryset (e.g. config.rows.value_rows for values() querysets).
    """
    total = queryset.count() if count is None else count()
    # A page past the end is empty: no query for it (deep page numbers are cheap to send).
    items = (
        fetch(queryset[params.offset : params.offset + params.per_page])
        if params.offset < total
        else []
    )
    return items, {"total": total, "page": params.page, "per_page": params.per_page}
