"""primitives/jsonpolicy.py: the one JSON policy, on its own (no database, no Django)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from primitives import jsonpolicy
from primitives.jsonpolicy import MAX_DEPTH, JSONRefused


def _refused(text: str) -> JSONRefused:
    with pytest.raises(JSONRefused) as caught:
        jsonpolicy.loads(text)
    return caught.value


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 10_000, 200_000])
def test_nesting_past_the_bound_is_refused_however_deep(depth):
    # 900 parses in C and would overflow a recursive walker; 10,000+ overflows the parser.
    error = _refused("[" * depth + "]" * depth)
    assert error.message == jsonpolicy.TOO_DEEP
    assert not error.malformed


def test_nesting_up_to_the_bound_is_accepted():
    value = jsonpolicy.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    for _ in range(MAX_DEPTH - 1):
        (value,) = value
    assert value == []


@pytest.mark.parametrize(
    "literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400 + ".0"]
)
def test_non_finite_numbers_are_refused_with_their_path(literal):
    error = _refused('{"a": [1, {"b": ' + literal + "}]}")
    assert (error.path, error.message) == ("a[1].b", jsonpolicy.NON_FINITE)


def test_integers_past_pythons_digit_limit_are_refused_and_up_to_it_accepted():
    assert _refused('{"n": ' + "9" * 4301 + "}").path == "n"
    assert jsonpolicy.loads("9" * 4300) == int("9" * 4300)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('"a\\u0000"', ""),
        ('{"k": ["ok", "\\ud800"]}', "k[1]"),
        ('{"\\udfff": 1}', "\\udfff"),
        ('{"a\\u0000b": 1}', "a\\u0000b"),
    ],
)
def test_nul_and_lone_surrogates_are_refused_in_keys_and_values(text, path):
    error = _refused(text)
    assert (error.path, error.message) == (path, jsonpolicy.UNSTORABLE_TEXT)
    path.encode("utf-8")  # the path shown to the user is itself storable


def test_text_that_is_not_json_is_malformed_not_a_policy_refusal():
    error = _refused('{"a": ')
    assert error.malformed
    assert "line 1, column 7" in error.message
    assert _refused(b"\xff").malformed


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"a": float("nan")}, "a"),
        ([Decimal("Infinity")], "[0]"),
        ({"n": 10**4300}, "n"),
        ({"x": [{"y": "\x00"}]}, "x[0].y"),
    ],
)
def test_check_applies_the_same_policy_to_parsed_values(value, path):
    with pytest.raises(JSONRefused) as caught:
        jsonpolicy.check(value)
    assert caught.value.path == path


def test_check_refuses_a_value_deeper_than_the_recursion_limit_without_recursing():
    value: list = []
    for _ in range(50_000):
        value = [value]
    with pytest.raises(JSONRefused):
        jsonpolicy.check(value)


storable_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | storable_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(storable_text, children, max_size=4)
    ),
    max_leaves=30,
)


@given(json_values)
def test_storable_json_round_trips_unchanged(value):
    """The policy refuses only what it names: any other JSON parses exactly as json does."""
    assert jsonpolicy.loads(json.dumps(value)) == value


def test_text_that_is_only_logged_is_made_storable_not_refused():
    assert jsonpolicy.made_storable("a\x00b\ud800c") == "a\ufffdb\ufffdc"
    assert jsonpolicy.made_storable("plain é") == "plain é"
