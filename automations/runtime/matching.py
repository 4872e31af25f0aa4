"""Which enabled automations a record event concerns: an in-process index per workspace.

The index maps (module_id, trigger_type) to the enabled record-trigger automations of one
workspace. It is loaded with one query and kept until the workspace's automations change:
`invalidate(workspace_id)` (called after commit by every automation write) drops the local copy
and bumps a per-workspace version token in the shared Django cache, and every lookup compares
the local copy's token with the cache's, so web processes and workers see a change on their
next event. A lookup costs one cache read and no database query, so a save that matches
nothing does no query at all.

If the cache is per process (LocMemCache) or unreachable, tokens cannot travel between
processes; the index is then reloaded when older than LOCAL_TTL seconds.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection

from automations.definition.model import definition_of
from automations.models import Automation
from automations.trigger_types import FIELD_CHANGED, RECORD_EVENT_TRIGGERS

logger = logging.getLogger(__name__)
T = TypeVar("T")

RECORD_TRIGGER_TYPES = tuple(sorted({t for ts in RECORD_EVENT_TRIGGERS.values() for t in ts}))
LOCAL_TTL = 1.0
MAX_WORKSPACES = 2_000
_KEY = "automations:match-version:{}"
CACHE_BACKOFF = 30.0
_cache_down_until = 0.0


@dataclass(frozen=True)
class _Index:
    token: str | None
    loaded_at: float
    by_key: dict[tuple[int, str], tuple[Automation, ...]]


_indexes: OrderedDict[int, _Index] = OrderedDict()
_lock = threading.Lock()


def _cache() -> BaseCache:
    return caches["automations"] if "automations" in settings.CACHES else caches["default"]


def _shared_cache() -> bool:
    return not isinstance(_cache(), LocMemCache)


def _current_token(workspace_id: int) -> str | None:
    """The workspace's version token in the shared cache (None when there is no shared one)."""
    global _cache_down_until
    if not _shared_cache() or time.monotonic() < _cache_down_until:
        return None
    key = _KEY.format(workspace_id)
    cache = _cache()
    try:
        token = cache.get(key)
        if token is None:
            # First use after a cache flush: agree on one token across processes.
            cache.add(key, uuid.uuid4().hex, timeout=None)
            token = cache.get(key)
        return token
    except Exception:
        # A dead Redis costs seconds of client retries: do not ask again for a while.
        _cache_down_until = time.monotonic() + CACHE_BACKOFF
        logger.warning(
            "Cache unreachable; matching falls back to a short-lived index", exc_info=True
        )
        return None


def invalidate(workspace_id: int) -> None:
    """Forget the workspace's index here and, through the cache, in every other process."""
    with _lock:
        _indexes.pop(workspace_id, None)
    if _shared_cache():
        try:
            _cache().set(_KEY.format(workspace_id), uuid.uuid4().hex, timeout=None)
        except Exception:
            logger.warning("Could not publish the matching invalidation", exc_info=True)


def clear() -> None:
    """Drop every local index and any cache back-off (tests; a fresh process starts so)."""
    global _cache_down_until
    with _lock:
        _indexes.clear()
    _cache_down_until = 0.0


# Values derived from a workspace's automations (the API list's totals) live this long at most,
# in case a write ever bypassed invalidate() (raw SQL); every write through the ORM, the
# services, the admin or the circuit breaker replaces the version token they are stored with.
DERIVED_TIMEOUT = 300
_DERIVED_KEY = "automations:derived:{}:{}"


def cached_per_version(workspace_id: int, name: str, compute: Callable[[], T]) -> T:
    """compute(), remembered in the shared cache until the workspace's automations change.

    The value is stored beside the workspace's version token (the one invalidate() replaces
    after every automation write commits) and used only while that token is unchanged; token
    and value are read in one cache round trip. Computed afresh, and not stored, inside a
    transaction (its own uncommitted writes have not replaced the token yet), without a shared
    cache, and while the cache is unreachable.
    """
    global _cache_down_until
    if not _shared_cache() or time.monotonic() < _cache_down_until or connection.in_atomic_block:
        return compute()
    cache = _cache()
    token_key = _KEY.format(workspace_id)
    value_key = _DERIVED_KEY.format(workspace_id, name)
    try:
        found = cache.get_many([token_key, value_key])
    except Exception:
        _cache_down_until = time.monotonic() + CACHE_BACKOFF
        logger.warning("Cache unreachable; derived values are computed afresh", exc_info=True)
        return compute()
    token = found.get(token_key)
    stored = found.get(value_key)
    if token is not None and isinstance(stored, tuple) and stored[0] == token:
        return stored[1]
    if token is None:
        token = _current_token(workspace_id)  # first use after a cache flush: agree on one
    # Read after the token: a write committing meanwhile replaces the token, so a value it
    # made stale is stored under a token nobody reads any more.
    value = compute()
    if token is not None:
        try:
            cache.set(value_key, (token, value), timeout=DERIVED_TIMEOUT)
        except Exception:
            logger.warning("Could not store a derived value", exc_info=True)
    return value


def _load(workspace_id: int, token: str | None) -> _Index:
    by_key: dict[tuple[int, str], list[Automation]] = {}
    automations = Automation.objects.filter(
        workspace_id=workspace_id,
        enabled=True,
        trigger_type__in=RECORD_TRIGGER_TYPES,
        module__isnull=False,
    ).order_by("created_at", "id")
    for automation in automations:
        if automation.module_id is None:
            continue  # excluded by the query; the check is for the type
        # Parsed here, once per load, so each record event reads the typed definition
        # (definition_of keeps it on the instance) instead of parsing JSON per save.
        definition_of(automation)
        by_key.setdefault((automation.module_id, automation.trigger_type), []).append(automation)
    index = _Index(
        token=token,
        loaded_at=time.monotonic(),
        by_key={key: tuple(items) for key, items in by_key.items()},
    )
    with _lock:
        _indexes[workspace_id] = index
        _indexes.move_to_end(workspace_id)
        while len(_indexes) > MAX_WORKSPACES:
            _indexes.popitem(last=False)
    return index


def _index_for(workspace_id: int) -> _Index:
    token = _current_token(workspace_id)
    index = _indexes.get(workspace_id)
    if index is not None:
        if token is not None and index.token == token:
            return index
        if token is None and time.monotonic() - index.loaded_at < LOCAL_TTL:
            return index
    return _load(workspace_id, token)


def automations_for(
    *,
    workspace_id: int,
    module_id: int,
    trigger_types: Iterable[str],
    changed_fields: Iterable[str] = (),
) -> list[Automation]:
    """Enabled automations of this module for these trigger types; field.changed ones only
    when their watched field is among `changed_fields`."""
    index = _index_for(workspace_id)
    changed = set(changed_fields)
    found: list[Automation] = []
    for trigger_type in trigger_types:
        for automation in index.by_key.get((module_id, trigger_type), ()):
            if trigger_type == FIELD_CHANGED and automation.watched_field not in changed:
                continue
            found.append(automation)
    return found
