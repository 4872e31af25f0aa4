"""send_email: an EmailTemplate by name, or a subject and body, through Django's email backend.

Delivery is at least once: a retry after a crash may send again, so every message carries a
Message-ID derived from (run id, action index) that a receiving system can de-duplicate on.
Recipients come only from the rendered `to`/`cc`/`bcc`/`reply_to` values, and data never decides
how many: a rendered string must be exactly one address (commas from a record value are not a
list), several recipients are written as a JSON list whose items each render to one address,
and any value holding a line break (any of them, U+2028 too) is refused. So a record field
cannot inject headers or extra recipients (tests/security/test_templates.py).

The dry run shows a template's subject and body through email_content, the function the send
itself uses, so the preview is what would be sent (tests/actions/test_previews.py).
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Mapping
from email.utils import formataddr, getaddresses, parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email

from automations.actions.base import Action, ActionContext, ActionError, Done, PreviewContext
from automations.engine.templates import TemplateError, render_string
from automations.models import EmailTemplate
from automations.validation import (
    DefinitionContext,
    Problems,
    email_problems,
    join,
    required_string,
    type_name,
    unknown_keys,
)

MAX_RECIPIENTS = 50
CODE = "email_delivery_failed"


# Characters that end a header line somewhere (str.splitlines() splits on all of them) and NUL.
_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00")


def _one_address(raw: Any, what: str) -> str:
    """Exactly one address (a display name is fine), normalised to what was validated."""
    text = "" if raw is None else str(raw)
    if any(char in _LINE_BREAKS for char in text):
        raise ActionError(CODE, f"{what} address contains a line break; refused", True)
    text = text.strip()
    parsed = getaddresses([text.replace(";", ",")])
    if len(parsed) != 1:
        raise ActionError(
            CODE,
            f"{what} {text!r} must be exactly one address; list several recipients as a JSON "
            "list in the automation",
            True,
        )
    name, address = parsed[0]
    try:
        # The parser repairs garbage by joining words: "Bcc: a@x.example Bcc:" reads as
        # "a@x.exampleBcc". Only an address written out as such is one.
        if address not in text:
            raise ValidationError("not as written")
        validate_email(address)
    except ValidationError:
        raise ActionError(CODE, f"{what} {text!r} is not a valid email address", True) from None
    return formataddr((name, address))


def _addresses(value: Any, what: str, written: Any = None) -> list[str]:
    """Recipients from a rendered value. Data never decides how many there are: a string must
    be one address, and a list is accepted only where the automation wrote a list (`written`,
    the config before rendering: anything else, None included, is not one), each item one
    address."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        if not isinstance(written, list):
            raise ActionError(
                CODE, f"{what} rendered a list from a template; list recipients literally", True
            )
        addresses = [_one_address(item, what) for item in value if item not in (None, "")]
    else:
        addresses = [_one_address(value, what)]
    if len(addresses) > MAX_RECIPIENTS:
        raise ActionError(CODE, f"at most {MAX_RECIPIENTS} {what} addresses", True)
    return addresses


def one_line(text: str) -> str:
    """A subject as a header holds it: its lines joined by a space (no header injection)."""
    return " ".join(text.splitlines()).strip()


def email_content(
    config: Mapping[str, Any],
    *,
    template_context: Mapping[str, Any],
    template_named: Callable[[str], EmailTemplate | None],
) -> tuple[str, str, str | None]:
    """(subject, body, template name) of the email a rendered config sends: the dry run shows
    what this returns and the send sends it. Raises the ActionError the run fails with."""
    name = config.get("template")
    if not name:
        subject, body = str(config.get("subject") or ""), str(config.get("body") or "")
        return one_line(subject), body, None
    template = template_named(str(name))
    if template is None:
        raise ActionError(CODE, f"email template '{name}' not found", permanent=True)
    data = config.get("data") or {}
    if not isinstance(data, Mapping):
        data = {}
    # The template sees the action's data keys at the top level, plus record, user, now.
    context = {**{str(k): v for k, v in data.items()}, **template_context}
    try:
        subject = render_string(template.subject, context, path="subject")
        body = render_string(template.body, context, path="body")
    except TemplateError as err:
        raise ActionError(
            "template_render_failed", f"email template '{name}': {err}", permanent=True
        ) from err
    return one_line(subject), body, str(name)


def message_id(ctx: ActionContext) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "automations.local"
    return f"<{ctx.run.id}.{ctx.index}@{domain}>"


_LOCAL_BACKENDS = frozenset(
    f"django.core.mail.backends.{name}.EmailBackend"
    for name in ("filebased", "locmem", "console", "dummy")
)


class SendEmail(Action):
    type = "send_email"
    label = "Send an email"

    def validate(self, config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
        problems = unknown_keys(
            config, {"to", "cc", "bcc", "reply_to", "template", "data", "subject", "body"}, path
        )
        if "to" not in config:
            problems.append((join(path, "to"), "to is required"))
        else:
            problems += email_problems(config["to"], join(path, "to"), allow_list=True)
        for key in ("cc", "bcc"):
            if config.get(key) is not None:
                problems += email_problems(config[key], join(path, key), allow_list=True)
        if config.get("reply_to") is not None:
            problems += email_problems(config["reply_to"], join(path, "reply_to"), allow_list=False)
        if "template" in config:
            problems += required_string(config, "template", path)
            name = config.get("template")
            if isinstance(name, str) and name.strip() and not ctx.template_exists(name):
                problems.append(
                    (
                        join(path, "template"),
                        f"unknown email template '{name}'; create it at /v1/email_templates",
                    )
                )
            for key in ("subject", "body"):
                if key in config:
                    problems.append(
                        (join(path, key), "give either a template or a subject and body, not both")
                    )
            if "data" in config and not isinstance(config["data"], Mapping):
                message = f"must be an object, got {type_name(config['data'])}"
                problems.append((join(path, "data"), message))
        elif "subject" in config or "body" in config:
            problems += required_string(config, "subject", path, max_length=500)
            problems += required_string(config, "body", path)
            if "data" in config:
                problems.append((join(path, "data"), "data is only used with a template"))
        else:
            problems.append((path, "send_email needs a template, or a subject and a body"))
        return problems

    def preview(self, config: Mapping[str, Any], ctx: PreviewContext) -> dict[str, Any]:
        """A template's email is shown as sent: subject and body from email_content, the
        function the send uses (an inline subject and body are the rendered config itself)."""
        preview = super().preview(config, ctx)
        rendered = self.rendered_config(preview)
        if rendered is None or not rendered.get("template"):
            return preview
        try:
            subject, body, _ = email_content(
                rendered,
                template_context=ctx.template_context,
                template_named=ctx.email_template,
            )
        except ActionError as err:
            preview["error"] = err.as_preview_error()
            return preview
        preview["email"] = {"subject": subject, "body": body}
        return preview

    def max_seconds(self, config: Mapping[str, Any]) -> float:
        # EMAIL_TIMEOUT bounds each socket operation, not the whole conversation: connecting
        # and sending the message are the two that wait on a slow server. Django's local
        # backends (files, memory, console) wait on nothing: the configured lease is enough.
        if settings.EMAIL_BACKEND in _LOCAL_BACKENDS or not settings.EMAIL_TIMEOUT:
            return 0.0
        return 2.0 * settings.EMAIL_TIMEOUT

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> Done:
        written = ctx.raw_config
        to = _addresses(config.get("to"), "to", written.get("to"))
        if not to:
            raise ActionError(CODE, "no recipient: 'to' rendered empty", permanent=True)
        cc = _addresses(config.get("cc"), "cc", written.get("cc"))
        bcc = _addresses(config.get("bcc"), "bcc", written.get("bcc"))
        reply_to = _addresses(config.get("reply_to"), "reply_to", written.get("reply_to"))
        subject, body, template = email_content(
            config, template_context=ctx.template_context, template_named=ctx.email_template
        )
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=to,
            cc=cc,
            bcc=bcc,
            reply_to=reply_to,
            headers={
                "Message-ID": message_id(ctx),
                "X-Automation-Id": ctx.automation.id,
                "X-Automation-Log-Id": ctx.run.id,
            },
        )
        try:
            sent = get_connection(fail_silently=False).send_messages([message])
        except smtplib.SMTPRecipientsRefused as err:
            raise ActionError(CODE, f"recipients refused: {err.recipients}", True) from err
        except smtplib.SMTPResponseException as err:
            detail = (
                err.smtp_error.decode(errors="replace")
                if isinstance(err.smtp_error, bytes)
                else str(err.smtp_error)
            )
            # 5xx is the server's final answer; 4xx (and anything else) may pass on a retry.
            raise ActionError(
                CODE, f"SMTP {err.smtp_code}: {detail}", permanent=500 <= err.smtp_code < 600
            ) from err
        except (smtplib.SMTPException, OSError) as err:
            raise ActionError(CODE, f"could not send: {err}") from err
        if not sent:
            raise ActionError(CODE, "the email backend sent nothing")
        output: dict[str, Any] = {
            "to": to,
            "subject": message.subject,
            "message_id": message_id(ctx),
        }
        if template:
            output["template"] = template
        return Done(output)
