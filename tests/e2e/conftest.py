"""End-to-end fixtures: a real Celery worker (in this process, on the configured broker: Redis
or the embedded filesystem broker), a real SMTP server and the relay standing in for beat."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker
from kombu import pools

from automations.runtime import matching
from automations.runtime.relay import relay
from config.celery import app as celery_app
from devtools.processes import await_condition, free_port


@pytest.fixture(scope="session")
def _private_filesystem_broker(tmp_path_factory):
    """On the embedded broker, use a folder of our own, so another test run sharing var/ can
    neither take our messages nor hand us theirs."""
    if not str(celery_app.conf.broker_url).startswith("filesystem"):
        yield
        return
    folder = tmp_path_factory.mktemp("broker")
    (folder / "queue").mkdir()
    (folder / "processed").mkdir()
    original = dict(celery_app.conf.broker_transport_options)
    celery_app.conf.broker_transport_options = {
        **original,
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
    }
    reset_broker_connections(celery_app)
    yield
    celery_app.conf.broker_transport_options = original
    reset_broker_connections(celery_app)


def reset_broker_connections(app) -> None:
    """Drop pooled broker connections so the next publish uses app.conf as it is now."""
    # kombu keeps pools in a global registry keyed by connection: clear it, not just ours.
    pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def engine_settings(settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = True  # the receivers here live on 127.0.0.1
    settings.AUTOMATIONS_RETRY_DELAYS = [0.3, 0.3]
    settings.AUTOMATIONS_REDISPATCH_AFTER = 5
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


@pytest.fixture
def celery_worker(transactional_db, engine_settings, _private_filesystem_broker):
    matching.clear()
    celery_app.control.purge()  # messages of earlier runs name runs that no longer exist
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        shutdown_timeout=30,
        loglevel="WARNING",
    ) as worker:
        yield worker
    matching.clear()


@pytest.fixture
def settle():
    """await_condition with the relay ticking, as celery beat would."""

    def settle_(condition, *, timeout: float = 30.0, message: str = "runs to finish"):
        return await_condition(
            condition, timeout=timeout, tick=relay, interval=0.1, message=message
        )

    return settle_


class SmtpInbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server(engine_settings):
    """A real SMTP server on 127.0.0.1; Django's SMTP backend is pointed at it."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    engine_settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    engine_settings.EMAIL_HOST = "127.0.0.1"
    engine_settings.EMAIL_PORT = port
    engine_settings.EMAIL_USE_TLS = engine_settings.EMAIL_USE_SSL = False
    engine_settings.EMAIL_HOST_USER = engine_settings.EMAIL_HOST_PASSWORD = ""
    engine_settings.EMAIL_TIMEOUT = 10
    yield inbox
    controller.stop()
