"""Django's Redis cache backend, with one Redis client per connection pool instead of a new one
for every cache operation.

Django's RedisCacheClient.get_client() builds a `redis.Redis` object for each call, and building
one fills its table of response callbacks (about 170 entries): that was a tenth of a
millisecond on every cache read, paid by each record event's matching check and each API
request's throttle. A `redis.Redis` is safe to share between threads (its connection pool hands
each command a connection), and its pool notices a fork and starts afresh in the child.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        # A private method of Django's client (not in its stubs): which pool serves `write`.
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = super().get_client(key, write=write)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
