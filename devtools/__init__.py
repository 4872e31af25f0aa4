"""Development tooling the tests and the benchmarks share: starting, watching and stopping the
real processes (Celery workers and beat, gunicorn, Redis, a PostgreSQL cluster) they measure or
break.

Its own top-level package because both `tests/` and `bench/` use it and neither may import the
other; the application never imports it (a contract in pyproject.toml), and it imports no
Django, so a plain Python process (bench/load) can use it too.
"""
