import pytest

from records.fieldtypes import FieldValueError, clean_value


@pytest.mark.parametrize(
    ("field_type", "value", "stored"),
    [
        ("text", "Jo", "Jo"),
        ("text", 12, "12"),
        ("number", "50000", 50000),
        ("number", 12.5, 12.5),
        ("number", "12.50", 12.5),
        ("number", 7, 7),
        ("date", "2024-01-15", "2024-01-15"),
        ("date", "2024-01-15T23:30:00Z", "2024-01-15"),
        ("datetime", "2024-01-15T10:30:00Z", "2024-01-15T10:30:00Z"),
        ("datetime", "2024-01-15T12:30:00+02:00", "2024-01-15T10:30:00Z"),
        ("datetime", "2024-01-15", "2024-01-15T00:00:00Z"),
        ("boolean", "true", True),
        ("boolean", 0, False),
        ("email", " jo@example.com ", "jo@example.com"),
        ("url", "https://example.com/x", "https://example.com/x"),
        ("reference", "rec_abcd1234", "rec_abcd1234"),
        ("user", "12", 12),
        ("text", "", None),
        ("number", None, None),
    ],
)
def test_clean_value_normalises_by_type(field_type, value, stored):
    assert clean_value(field_type, value) == stored


def test_select_accepts_options_and_canonicalises_case():
    assert clean_value("select", "Proposal", options=["proposal", "closed_won"]) == "proposal"


@pytest.mark.parametrize(
    ("field_type", "value", "reason"),
    [
        ("number", "abc", "must be a number"),
        ("number", True, "not a boolean"),
        ("number", "NaN", "finite"),
        ("date", "15/01/2024", "YYYY-MM-DD"),
        ("datetime", "yesterday", "ISO 8601"),
        ("boolean", "maybe", "true or false"),
        ("email", "jo@", "email address"),
        ("url", "ftp://x.example", "http(s) URL"),
        ("url", "javascript:alert(1)", "http(s) URL"),
        ("reference", "123", "record id"),
        ("user", "bob", "user id"),
        ("user", 0, "user id"),
        ("text", {"a": 1}, "must be text"),
    ],
)
def test_clean_value_rejects_bad_values_with_reason(field_type, value, reason):
    with pytest.raises(FieldValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        clean_value(field_type, value)


def test_select_rejects_unknown_option_naming_the_options():
    with pytest.raises(FieldValueError, match="one of low, high"):
        clean_value("select", "medium", options=["low", "high"])
