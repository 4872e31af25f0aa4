"""Holding real responses to /v1/schema: find the operation a request hit and validate the
response body against that operation's schema for the status, with a strict OpenAPI 3.0
validator (openapi-schema-validator: types, required keys, formats, enums, and null only
where the schema says nullable)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

from config.api import schema_view

METHODS = ("get", "post", "put", "patch", "delete")


def load_schema() -> dict[str, Any]:
    """The schema exactly as /v1/schema serves it, built fresh for this code."""
    schema_view._cache.clear()
    response = Client().get("/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content[:500]
    return json.loads(response.content)


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    spec: dict[str, Any]

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.template)

    @property
    def authenticated(self) -> bool:
        return any(requirement for requirement in self.spec.get("security", [{}]))

    def url(self, **values: Any) -> str:
        return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), self.template)


def operations(schema: dict[str, Any]) -> list[Operation]:
    return [
        Operation(method, template, spec["operationId"], spec)
        for template, item in schema["paths"].items()
        for method, spec in item.items()
        if method in METHODS
    ]


@dataclass
class Contract:
    """Validates each response it is shown (body, and the headers the schema documents) and
    remembers which (operation, status) it saw."""

    schema: dict[str, Any]
    seen: dict[str, set[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._routes = sorted(
            (
                (re.compile("^" + re.sub(r"{\w+}", "[^/]+", op.template) + "$"), op)
                for op in operations(self.schema)
            ),
            # A literal segment wins over a parameter (e.g. read_all over {notification_id}).
            key=lambda route: route[1].template.count("{"),
        )

    def operation_for(self, method: str, path: str) -> Operation:
        path = path.split("?", 1)[0]
        for pattern, op in self._routes:
            if op.method == method.lower() and pattern.match(path):
                return op
        raise AssertionError(f"{method.upper()} {path} is not an operation of the schema")

    def check(self, method: str, path: str, response: Any) -> Operation:
        op = self.operation_for(method, path)
        status = response.status_code
        where = f"{method.upper()} {path} -> {status}"
        documented = op.spec["responses"]
        assert str(status) in documented, (
            f"{where}: status not documented for {op.operation_id} "
            f"(documented: {sorted(documented)}); body {response.content[:300]!r}"
        )
        content = documented[str(status)].get("content", {})
        media = response.headers.get("Content-Type", "").split(";")[0].strip()
        assert media in content, f"{where}: Content-Type {media!r} not in {sorted(content)}"
        body = json.loads(response.content)
        errors = self.errors(content[media]["schema"], body)
        for name, header in documented[str(status)].get("headers", {}).items():
            value = response.headers.get(name)
            if value is None:
                if header.get("required"):
                    errors.append(f"  header {name} is missing")
                continue
            typed: Any = value
            if header["schema"].get("type") == "integer":
                if not value.isdigit():
                    errors.append(f"  header {name}: {value!r} is not an integer")
                    continue
                typed = int(value)
            errors += [f"  header {name}{e}" for e in self.errors(header["schema"], typed)]
        assert not errors, f"{where} ({op.operation_id}) breaks the schema:\n" + "\n".join(errors)
        self.seen.setdefault(op.operation_id, set()).add(status)
        return op

    def errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        """Every way `instance` breaks `schema` ($refs resolved against the whole document)."""
        document = {**schema, "components": self.schema["components"]}
        validator = OAS30ReadValidator(document, format_checker=oas30_format_checker)
        return [
            f"  at {'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:300]}"
            f" [schema {'/'.join(map(str, e.absolute_schema_path))}]"
            for e in sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        ]
