import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def make_id(prefix: str, length: int = 16) -> str:
    """Public ids in the seed's style: `rec_...`, `auto_...`, `log_...` (random, unguessable)."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
