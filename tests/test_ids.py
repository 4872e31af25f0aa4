"""config.ids.make_id: the seed's id shape, unguessable and evenly spread over its alphabet."""

import re
from collections import Counter

from config.ids import _ALPHABET, make_id


def test_ids_have_the_prefix_and_sixteen_characters_of_the_alphabet():
    for _ in range(1000):
        assert re.fullmatch(r"rec_[a-z0-9]{16}", make_id("rec"))
    assert re.fullmatch(r"log_[a-z0-9]{5}", make_id("log", length=5))


def test_ids_do_not_repeat():
    ids = {make_id("run") for _ in range(20_000)}
    assert len(ids) == 20_000


def test_every_character_is_about_equally_likely():
    # 36 characters, 320,000 draws: about 8,889 each. A bias as small as the one a plain
    # `byte % 36` would give (the first 4 characters 8 % more often) falls far outside 5 %.
    counts = Counter("".join(make_id("x")[2:] for _ in range(20_000)))
    assert set(counts) == set(_ALPHABET)
    expected = 20_000 * 16 / len(_ALPHABET)
    assert all(abs(n - expected) < 0.05 * expected for n in counts.values()), counts
