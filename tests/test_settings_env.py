import os
import subprocess
import sys

import pytest

from config import env


def test_env_bool_parses_and_fails_loudly(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert env.env_bool("FLAG") is True
    monkeypatch.setenv("FLAG", "0")
    assert env.env_bool("FLAG") is False
    monkeypatch.setenv("FLAG", "perhaps")
    with pytest.raises(env.ImproperlyConfiguredEnv, match="FLAG"):
        env.env_bool("FLAG")


def test_env_int_rejects_text_and_too_small(monkeypatch):
    monkeypatch.setenv("N", "abc")
    with pytest.raises(env.ImproperlyConfiguredEnv, match="not an integer"):
        env.env_int("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(env.ImproperlyConfiguredEnv, match="at least 1"):
        env.env_int("N", 1, minimum=1)


def test_retry_delays_parse_as_seconds(monkeypatch):
    monkeypatch.setenv("AUTOMATIONS_RETRY_DELAYS", "1, 2.5,30")
    assert env.env_float_list("AUTOMATIONS_RETRY_DELAYS", []) == [1.0, 2.5, 30.0]
    monkeypatch.setenv("AUTOMATIONS_RETRY_DELAYS", "1,soon")
    with pytest.raises(env.ImproperlyConfiguredEnv, match="soon"):
        env.env_float_list("AUTOMATIONS_RETRY_DELAYS", [])


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = env.secret_key(tmp_path)
    assert len(first) >= 50
    assert env.secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_short_secret_key_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(env.ImproperlyConfiguredEnv, match="32"):
        env.secret_key(tmp_path)


def _settings_in_a_new_process(
    code: str = "", **environ: str | None
) -> subprocess.CompletedProcess:
    """Load config.settings in a fresh interpreter with `environ` changed (None unsets a
    variable), then run `code` there: settings are read once per process."""
    env = {**os.environ, **{k: v for k, v in environ.items() if v is not None}}
    for name in [k for k, v in environ.items() if v is None]:
        env.pop(name, None)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']="
            f"'config.settings'; django.setup()\n{code}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_database_url_fails_loudly():
    result = _settings_in_a_new_process(DATABASE_URL="nonsense://")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


_SHOW_PUBLIC_URL = "from django.conf import settings; print(settings.PUBLIC_BASE_URL)"


def test_the_public_base_url_follows_port():
    # scripts/run serves on PORT: webhook URLs and email links must point there.
    result = _settings_in_a_new_process(_SHOW_PUBLIC_URL, PORT="8123", PUBLIC_BASE_URL=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://127.0.0.1:8123"


def test_an_explicit_public_base_url_wins_over_port():
    result = _settings_in_a_new_process(
        _SHOW_PUBLIC_URL, PORT="8123", PUBLIC_BASE_URL="https://crm.example.com/"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://crm.example.com"


@pytest.mark.parametrize("bad", ["http", "0", "70000"])
def test_a_bad_port_fails_at_start_naming_it(bad):
    result = _settings_in_a_new_process(PORT=bad)
    assert result.returncode != 0
    assert f"PORT={bad!r}" in result.stderr


@pytest.mark.parametrize("name", ["API_RATE_LIMIT", "AUTOMATIONS_WEBHOOK_RATE_LIMIT"])
@pytest.mark.parametrize("bad", ["abc", "120 / min", "120/fortnight", "/min"])
def test_a_rate_that_drf_could_not_read_fails_at_start(monkeypatch, name, bad):
    # The rate limits read their rate only when a request comes: a bad value used to pass
    # start-up and then answer every API request with a 500.
    monkeypatch.setenv(name, bad)
    with pytest.raises(env.ImproperlyConfiguredEnv, match=name):
        env.env_rate(name, "120/min")


def test_rates_in_drf_syntax_are_accepted(monkeypatch):
    from config.ratelimit import parse_rate

    for good in ["3000/min", "5/sec", "10/hour", "1/day", "2/minutes"]:
        monkeypatch.setenv("R", f" {good} ")
        value = env.env_rate("R", "")
        assert value == good
        assert parse_rate(value).limit > 0  # the reader both limits use
    monkeypatch.setenv("R", "")
    assert env.env_rate("R", "120/min") == ""


def test_a_single_number_of_seconds_with_a_floor(monkeypatch):
    monkeypatch.setenv("AUTOMATIONS_REDISPATCH_AFTER", "30")
    assert env.env_seconds("AUTOMATIONS_REDISPATCH_AFTER", 60.0, minimum=1.0) == 30.0
    for bad, why in (("0", "at least 1"), ("5,10", "not a number"), ("soon", "not a number")):
        monkeypatch.setenv("AUTOMATIONS_REDISPATCH_AFTER", bad)
        with pytest.raises(env.ImproperlyConfiguredEnv, match=why):
            env.env_seconds("AUTOMATIONS_REDISPATCH_AFTER", 60.0, minimum=1.0)


def test_the_smtp_timeout_is_set_without_an_smtp_host(monkeypatch):
    # An SMTP backend configured without EMAIL_HOST (another settings module's EMAIL_BACKEND)
    # must still time out on a dead server.
    import runpy
    from pathlib import Path

    monkeypatch.delenv("EMAIL_HOST", raising=False)
    monkeypatch.delenv("EMAIL_TIMEOUT", raising=False)
    loaded = runpy.run_path(str(Path(__file__).parent.parent / "config" / "settings.py"))
    assert loaded["EMAIL_BACKEND"].endswith("filebased.EmailBackend")
    assert loaded["EMAIL_TIMEOUT"] == 30
    monkeypatch.setenv("EMAIL_TIMEOUT", "5")
    assert (
        runpy.run_path(str(Path(__file__).parent.parent / "config" / "settings.py"))[
            "EMAIL_TIMEOUT"
        ]
        == 5
    )
