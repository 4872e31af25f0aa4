import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits
# Random bytes below this (7 x 36) map onto the alphabet evenly; the rest are drawn again.
_UNBIASED_BELOW = 256 - 256 % len(_ALPHABET)


def make_id(prefix: str, length: int = 16) -> str:
    """Public ids in the seed's style: `rec_...`, `auto_...`, `log_...` (random, unguessable:
    16 characters of 36 are 82 bits). One read of the system's random source per id:
    `secrets.choice` per character cost two dozen reads (a tenth of a millisecond per id, on
    every record save and run)."""
    chars: list[str] = []
    while len(chars) < length:
        for byte in secrets.token_bytes(length + 4):
            if byte < _UNBIASED_BELOW:
                chars.append(_ALPHABET[byte % len(_ALPHABET)])
                if len(chars) == length:
                    break
    return f"{prefix}_" + "".join(chars)
