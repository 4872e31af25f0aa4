"""Settings of the benchmark's gunicorn: the product's, with the benchmark's URLconf (the
product's URLs plus a bare endpoint that is never part of the product)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
