"""The vocabulary of save-time validation, shared by the definition package and every action
type's `validate`: the problem list, the context of one definition (workspace, trigger, module
fields) and small checks on values. It lives beside both, not inside the definition package,
because the definition package reads the action registry: actions importing it would make a
circle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from accounts.models import Membership, Workspace
from automations.engine.templates import validate_template_value
from automations.models import EmailTemplate
from automations.trigger_types import MODULE_TRIGGERS, template_roots
from records.fieldtypes import FieldValueError, clean_value
from records.models import Field, Module
from records.selectors import module_fields, modules_for

Problems = list[tuple[str, str]]

# Fields every record has; they are read-only, so actions may not write them.
SYSTEM_FIELDS = frozenset({"id", "module", "created_at", "updated_at"})

_email = EmailValidator()
_url = URLValidator(schemes=["http", "https"])


@dataclass
class DefinitionContext:
    """What one definition's validators need to know, with the lookups cached so that a
    definition with many actions costs a handful of queries, not one per action."""

    workspace: Workspace
    trigger_type: str | None
    module: Module | None
    # False when the trigger itself has problems: checks that depend on it are skipped.
    trigger_valid: bool = False
    _modules: dict[str, Module | None] = field(default_factory=dict)
    _template_names: set[str] | None = None
    _member_ids: set[int] | None = None

    @property
    def has_record(self) -> bool:
        return self.trigger_type in MODULE_TRIGGERS and self.module is not None

    @property
    def allowed_roots(self) -> set[str]:
        return template_roots(self.trigger_type) if self.trigger_type else {"now", "trigger"}

    @property
    def record_fields(self) -> set[str] | None:
        """Keys `record.*` may name; None when the trigger has no module (nothing to check)."""
        if self.module is None:
            return None
        return {f.key for f in module_fields(self.module)}

    def module_by_slug(self, slug: str) -> Module | None:
        if slug not in self._modules:
            self._modules[slug] = (
                self.module
                if self.module is not None and self.module.slug == slug
                else modules_for(self.workspace).filter(slug=slug).first()
            )
        return self._modules[slug]

    def template_exists(self, name: str) -> bool:
        if self._template_names is None:
            self._template_names = set(
                EmailTemplate.objects.filter(workspace=self.workspace).values_list(
                    "name", flat=True
                )
            )
        return name in self._template_names

    def is_member(self, user_id: int) -> bool:
        if self._member_ids is None:
            self._member_ids = set(
                Membership.objects.filter(workspace=self.workspace).values_list(
                    "user_id", flat=True
                )
            )
        return user_id in self._member_ids

    def templates(self, value: Any, path: str) -> Problems:
        """Variables and filters of every template string inside `value`."""
        return validate_template_value(
            value, allowed_roots=self.allowed_roots, record_fields=self.record_fields, path=path
        )


def has_markup(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def unknown_keys(
    data: Mapping[str, Any], allowed: set[str] | frozenset[str], path: str
) -> Problems:
    expected = ", ".join(sorted(allowed))
    return [
        (join(path, key), f"unknown key '{key}'; expected one of {expected}")
        for key in data
        if key not in allowed
    ]


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def required_string(
    data: Mapping[str, Any], key: str, path: str, *, max_length: int | None = None
) -> Problems:
    where = join(path, key)
    if key not in data or data[key] is None:
        return [(where, f"{key} is required")]
    value = data[key]
    if not isinstance(value, str):
        return [(where, f"{key} must be a string, got {type_name(value)}")]
    if not value.strip():
        return [(where, f"{key} must not be empty")]
    if max_length is not None and len(value) > max_length:
        return [(where, f"{key} must be at most {max_length} characters")]
    return []


def optional_string(
    data: Mapping[str, Any], key: str, path: str, *, max_length: int | None = None
) -> Problems:
    if key not in data or data[key] is None:
        return []
    return required_string(data, key, path, max_length=max_length)


def email_problems(value: Any, path: str, *, allow_list: bool) -> Problems:
    """One address (or a list of them when allowed); templates are checked when rendered."""
    if allow_list and isinstance(value, list):
        if not value:
            return [(path, "must list at least one email address")]
        problems: Problems = []
        for index, item in enumerate(value):
            problems += email_problems(item, f"{path}[{index}]", allow_list=False)
        return problems
    if not isinstance(value, str) or not value.strip():
        kind = "an email address or a list of them" if allow_list else "an email address"
        return [(path, f"must be {kind}")]
    if has_markup(value):
        return []
    try:
        _email(value.strip())
    except ValidationError:
        return [(path, f"{value!r} is not a valid email address")]
    return []


def url_problems(value: Any, path: str) -> Problems:
    """An http(s) URL. A template is checked as far as its literal start goes: the scheme must
    be visible unless the whole URL comes from a variable."""
    if not isinstance(value, str) or not value.strip():
        return [(path, "must be an http or https URL")]
    text = value.strip()
    if has_markup(text):
        literal = text.split("{{")[0].split("{%")[0]
        if literal and not literal.lower().startswith(("http://", "https://")):
            return [(path, "must start with http:// or https://")]
        return []
    if not text.lower().startswith(("http://", "https://")):
        return [(path, "must be an http or https URL")]
    try:
        _url(text)
    except ValidationError:
        return [(path, f"{text!r} is not a valid URL")]
    return []


def field_values_problems(values: Any, module: Module, path: str, *, require_all: bool) -> Problems:
    """Field keys must exist in `module`; literal values must be valid for the field's type
    (templates are checked when rendered, at run time)."""
    if not isinstance(values, Mapping):
        return [(path, f"must be an object of field values, got {type_name(values)}")]
    if not values:
        return [(path, "must set at least one field")]
    fields: dict[str, Field] = {f.key: f for f in module_fields(module)}
    problems: Problems = []
    for key, value in values.items():
        where = join(path, key)
        if key in SYSTEM_FIELDS:
            problems.append((where, f"'{key}' is read-only"))
            continue
        target = fields.get(key)
        if target is None:
            problems.append((where, f"unknown field '{key}' in module '{module.slug}'"))
            continue
        if has_markup(value):
            continue
        try:
            clean_value(target.type, value, options=target.options)
        except FieldValueError as err:
            problems.append((where, str(err)))
    if require_all:
        for f in fields.values():
            if f.required and f.key not in values:
                problems.append((path, f"field '{f.key}' is required in module '{module.slug}'"))
    return problems
