"""How drf-spectacular documents our authentication classes in /v1/schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"}


class WorkspaceSessionScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.WorkspaceSessionAuthentication"
    name = "SessionAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
