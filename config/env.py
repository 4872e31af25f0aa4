"""Small helpers that read settings from the environment and fail loudly on bad values."""

import os
import re
import secrets
from pathlib import Path


class ImproperlyConfiguredEnv(RuntimeError):
    pass


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no)")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ImproperlyConfiguredEnv(f"{name}={raw!r} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfiguredEnv(f"{name}={raw!r} must be at most {maximum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_seconds(name: str, default: float, *, minimum: float) -> float:
    """One number of seconds, at least `minimum`."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a number of seconds") from None
    if value < minimum:
        raise ImproperlyConfiguredEnv(f"{name}={raw!r}: must be at least {minimum:g} seconds")
    return value


def env_float_list(name: str, default: list[float]) -> list[float]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    values = []
    for item in raw.split(","):
        try:
            value = float(item)
        except ValueError:
            raise ImproperlyConfiguredEnv(
                f"{name}={raw!r}: {item.strip()!r} is not a number of seconds"
            ) from None
        if value < 0:
            raise ImproperlyConfiguredEnv(f"{name}={raw!r}: delays cannot be negative")
        values.append(value)
    return values


# A request rate in DRF's throttle syntax: N/sec, N/min, N/hour, N/day, no spaces. config.ratelimit
# reads API_RATE_LIMIT and AUTOMATIONS_WEBHOOK_RATE_LIMIT with the same pattern.
RATE_PATTERN = re.compile(r"(\d+)/(s|sec|second|m|min|minute|h|hour|d|day)s?")


def env_rate(name: str, default: str) -> str:
    """A rate such as 120/min, or "" (no limit); anything else fails at start."""
    value = env_str(name, default).strip()
    if value and not RATE_PATTERN.fullmatch(value):
        raise ImproperlyConfiguredEnv(
            f"{name}={value!r} is not a rate such as 120/min "
            "(N/sec, N/min, N/hour, N/day; empty turns it off)"
        )
    return value


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """'X-Forwarded-Proto: https' -> ("HTTP_X_FORWARDED_PROTO", "https"), Django's
    SECURE_PROXY_SSL_HEADER: the header a TLS-terminating proxy sets, and its value for HTTPS."""
    raw = env_str(name, "").strip()
    if not raw:
        return None
    header, sep, value = raw.partition(":")
    header, value = header.strip(), value.strip()
    if not sep or not value or not re.fullmatch(r"[A-Za-z0-9-]+", header):
        raise ImproperlyConfiguredEnv(
            f"{name}={raw!r} is not 'Header-Name: value', e.g. 'X-Forwarded-Proto: https'"
        )
    return "HTTP_" + header.upper().replace("-", "_"), value


def secret_key(var_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept under var/.

    Never a committed default: a checkout without the variable makes its own key.
    """
    raw = os.environ.get("SECRET_KEY")
    if raw:
        if len(raw) < 32:
            raise ImproperlyConfiguredEnv("SECRET_KEY must be at least 32 characters long")
        return raw
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
