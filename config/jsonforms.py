"""The JSON policy (primitives/jsonpolicy.py) for Django form fields: the admin's JSON fields.

Django's forms.JSONField parses with json.loads: a deep value raised RecursionError (a 500, also
when the form was only re-displayed), and NaN or 1e400 were accepted, then refused by
PostgreSQL. This field parses with the policy and shows its refusal on the field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput, JSONString

from primitives import jsonpolicy


class PolicyJSONField(forms.JSONField):
    def to_python(self, value: Any) -> Any:
        if self.disabled:
            return value
        if value in self.empty_values:
            return None
        try:
            if isinstance(value, (list, dict, int, float, JSONString)):
                jsonpolicy.check(value)
                return value
            converted = jsonpolicy.loads(value)
        except jsonpolicy.JSONRefused as err:
            raise ValidationError(str(err), code="invalid") from None
        return JSONString(converted) if isinstance(converted, str) else converted

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Re-displaying a refused value must not parse it unguarded (the 500 was here too).
        if self.disabled:
            return initial
        if data is None:
            return None
        try:
            return jsonpolicy.loads(data)
        except jsonpolicy.JSONRefused:
            return InvalidJSONInput(data)


# For a ModelAdmin's (or inline's) formfield_overrides: every JSON column edited with the policy.
JSON_POLICY_OVERRIDES: dict[type[models.Field], dict[str, Any]] = {
    models.JSONField: {"form_class": PolicyJSONField}
}
