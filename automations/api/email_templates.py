"""The workspace's email templates: /v1/email_templates (list, create) and one template by name
(get, update, delete). A template in use by an automation's send_email action cannot be renamed
or deleted (409 template_in_use, from automations.services)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from automations import selectors, services
from automations.api import schemas
from automations.api.common import ERRORS, reject_unknown_params
from automations.models import EmailTemplate
from config.api.openapi import errors, page_parameters
from config.api.pagination import page_params, paginate
from config.api.views import WorkspaceAPIView, envelope, json_object, workspace_auth
from config.errors import not_found
from primitives.timestamps import iso

TEMPLATES_TAG = "email templates"


def email_template_data(template: EmailTemplate) -> dict[str, Any]:
    return {
        "name": template.name,
        "subject": template.subject,
        "body": template.body,
        "created_at": iso(template.created_at),
        "updated_at": iso(template.updated_at),
    }


def _template_or_404(request: Request, name: str) -> EmailTemplate:
    template = selectors.email_template_get(workspace=workspace_auth(request).workspace, name=name)
    if template is None:
        raise not_found(f"Email template '{name}'")
    return template


class EmailTemplateListView(WorkspaceAPIView):
    @extend_schema(
        tags=[TEMPLATES_TAG],
        operation_id="email_templates_list",
        summary="List email templates",
        parameters=page_parameters(),
        responses={
            200: schemas.page_of("EmailTemplatePage", schemas.EmailTemplateSchema(many=True)),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        reject_unknown_params(request, {"page", "per_page"})
        templates = selectors.email_templates_for(self.workspace(request))
        items, meta = paginate(templates, page_params(request.query_params))
        return envelope([email_template_data(t) for t in items], meta)

    @extend_schema(
        tags=[TEMPLATES_TAG],
        operation_id="email_templates_create",
        summary="Create an email template (subject and body are templates)",
        request=schemas.EmailTemplateSchema,
        responses={
            201: schemas.data_of("EmailTemplateCreated", schemas.EmailTemplateSchema()),
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        template = services.email_template_create(
            workspace=self.workspace(request), data=json_object(request)
        )
        return envelope(email_template_data(template), status=201)


class EmailTemplateDetailView(WorkspaceAPIView):
    @extend_schema(
        tags=[TEMPLATES_TAG],
        operation_id="email_templates_retrieve",
        summary="Get an email template",
        responses={
            200: schemas.data_of("EmailTemplateOne", schemas.EmailTemplateSchema()),
            **ERRORS,
        },
    )
    def get(self, request: Request, name: str) -> Response:
        return envelope(email_template_data(_template_or_404(request, name)))

    @extend_schema(
        tags=[TEMPLATES_TAG],
        operation_id="email_templates_partial_update",
        summary="Update an email template (renaming one in use is refused with 409)",
        request=schemas.EmailTemplatePatchSchema,
        responses={
            200: schemas.data_of("EmailTemplateUpdated", schemas.EmailTemplateSchema()),
            **errors(409),
            **ERRORS,
        },
    )
    def patch(self, request: Request, name: str) -> Response:
        template = services.email_template_update(
            template=_template_or_404(request, name), data=json_object(request)
        )
        return envelope(email_template_data(template))

    @extend_schema(
        tags=[TEMPLATES_TAG],
        operation_id="email_templates_destroy",
        summary="Delete an email template (409 while automations use it)",
        responses={
            200: inline_serializer(
                "EmailTemplateDeleted",
                {
                    "data": inline_serializer(
                        "TemplateDeleted",
                        {"name": serializers.CharField(), "deleted": serializers.BooleanField()},
                    )
                },
            ),
            **errors(409),
            **ERRORS,
        },
    )
    def delete(self, request: Request, name: str) -> Response:
        """Refused with 409 template_in_use, naming the automations, while any automation's
        send_email action uses the template."""
        services.email_template_delete(template=_template_or_404(request, name))
        return envelope({"name": name, "deleted": True})
