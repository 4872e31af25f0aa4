import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits
# Random bytes below this (7 x 36) map onto the alphabet evenly; the rest are drawn again.
_UNBIASED_BELOW = 256 - 256 % len(_ALPHABET)
# bytes.translate maps each kept byte to its character and deletes the biased ones, in C.
_TO_ALPHABET = bytes(ord(_ALPHABET[b % len(_ALPHABET)]) for b in range(256))
_BIASED = bytes(range(_UNBIASED_BELOW, 256))


def make_id(prefix: str, length: int = 16) -> str:
    """Public ids in the seed's style: `rec_...`, `auto_...`, `log_...` (random, unguessable:
    16 characters of 36 are 82 bits). One read of the system's random source per id, mapped in
    C: `secrets.choice` per character cost two dozen reads (a tenth of a millisecond per id, on
    every record save and run)."""
    chars = b""
    while len(chars) < length:
        chars += secrets.token_bytes(length + 4).translate(_TO_ALPHABET, _BIASED)
    return f"{prefix}_{chars[:length].decode()}"
