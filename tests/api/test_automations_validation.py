"""Every save-time validation rule: the bad input answers 400 in the error shape, naming the exact
path and the reason."""

import pytest

from automations.models import Automation

HOOK = {"type": "call_webhook", "config": {"url": "https://example.com/hook"}}
RECORD_UPDATED = {"type": "record.updated", "module": "contacts"}


def body(**parts):
    """A valid definition with some parts replaced (None removes a part)."""
    definition = {"name": "Rule check", "trigger": RECORD_UPDATED, "actions": [HOOK], **parts}
    return {key: value for key, value in definition.items() if value is not None}


def action(action_type, config, trigger=RECORD_UPDATED):
    return body(trigger=trigger, actions=[{"type": action_type, "config": config}])


def condition(*conditions, trigger=RECORD_UPDATED):
    return body(trigger=trigger, conditions=list(conditions))


def template_in_webhook(text, trigger=RECORD_UPDATED):
    return action(
        "call_webhook", {"url": "https://example.com/x", "body": {"text": text}}, trigger=trigger
    )


SCHEDULE = {"type": "schedule", "schedule": "0 9 * * *"}
DELETED = {"type": "record.deleted", "module": "contacts"}
CREATED = {"type": "record.created", "module": "contacts"}
FORTY_ONE = [{"field": "name", "operator": "is_not_empty"}] * 101

CASES = [
    # --- the definition itself
    ("name missing", body(name=None), "name", "required"),
    ("name empty", body(name="  "), "name", "empty"),
    ("name not a string", body(name=5), "name", "string"),
    ("name too long", body(name="x" * 201), "name", "200"),
    ("unknown top-level key", body(colour="red"), "colour", "unknown key"),
    ("description not a string", body(description=["x"]), "description", "string"),
    ("enabled not a boolean", body(enabled="yes"), "enabled", "true or false"),
    ("timezone unknown", body(timezone="Mars/Olympus"), "timezone", "unknown timezone"),
    # --- trigger
    ("trigger missing", body(trigger=None), "trigger", "required"),
    ("trigger not an object", body(trigger="record.created"), "trigger", "object"),
    ("trigger type missing", body(trigger={"module": "contacts"}), "trigger.type", "required"),
    (
        "trigger type unknown",
        body(trigger={"type": "record.exploded", "module": "contacts"}),
        "trigger.type",
        "unknown trigger type",
    ),
    (
        "trigger unknown key",
        body(trigger={**CREATED, "field": "name"}),
        "trigger.field",
        "unknown key",
    ),
    (
        "record trigger without module",
        body(trigger={"type": "record.created"}),
        "trigger.module",
        "required",
    ),
    (
        "manual trigger without module",
        body(trigger={"type": "manual"}),
        "trigger.module",
        "required",
    ),
    (
        "module unknown",
        body(trigger={"type": "record.created", "module": "planets"}),
        "trigger.module",
        "unknown module 'planets'",
    ),
    (
        "field.changed without field",
        body(trigger={"type": "field.changed", "module": "deals"}),
        "trigger.field",
        "required",
    ),
    (
        "field.changed field unknown",
        body(trigger={"type": "field.changed", "module": "deals", "field": "colour"}),
        "trigger.field",
        "unknown field 'colour'",
    ),
    ("schedule missing", body(trigger={"type": "schedule"}), "trigger.schedule", "required"),
    (
        "schedule out of range",
        body(trigger={"type": "schedule", "schedule": "61 * * * *"}),
        "trigger.schedule",
        "cron",
    ),
    (
        "schedule with six fields",
        body(trigger={"type": "schedule", "schedule": "0 0 9 * * *"}),
        "trigger.schedule",
        "5 fields",
    ),
    ("webhook_path missing", body(trigger={"type": "webhook"}), "trigger.webhook_path", "required"),
    (
        "webhook_path not URL-safe",
        body(trigger={"type": "webhook", "webhook_path": "my hook/x"}),
        "trigger.webhook_path",
        "letters, digits",
    ),
    # --- conditions
    ("conditions not a list", condition() | {"conditions": "email"}, "conditions", "list"),
    ("condition not an object", condition("email"), "conditions[0]", "condition object"),
    (
        "condition unknown key",
        condition({"field": "email", "operator": "is_empty", "x": 1}),
        "conditions[0].x",
        "unknown key",
    ),
    (
        "condition field missing",
        condition({"operator": "is_empty"}),
        "conditions[0].field",
        "required",
    ),
    (
        "condition operator unknown",
        condition({"field": "email", "operator": "resembles", "value": "x"}),
        "conditions[0].operator",
        "unknown operator",
    ),
    (
        "condition value missing",
        condition({"field": "email", "operator": "equals"}),
        "conditions[0].value",
        "needs a value",
    ),
    (
        "condition value where none is taken",
        condition({"field": "email", "operator": "is_empty", "value": "x"}),
        "conditions[0].value",
        "takes no value",
    ),
    (
        "condition field unknown",
        condition({"field": "colour", "operator": "is_empty"}),
        "conditions[0].field",
        "unknown field 'colour'",
    ),
    (
        "changed_to without previous values",
        condition({"field": "status", "operator": "changed_to", "value": "x"}, trigger=CREATED),
        "conditions[0].operator",
        "previous value",
    ),
    (
        "changed on a manual trigger",
        condition(
            {"field": "status", "operator": "changed"},
            trigger={"type": "manual", "module": "contacts"},
        ),
        "conditions[0].operator",
        "previous value",
    ),
    (
        "greater_than on a text field",
        condition({"field": "name", "operator": "greater_than", "value": 5}),
        "conditions[0].operator",
        "number, date and datetime",
    ),
    (
        "number condition with a non-number",
        condition(
            {"field": "value", "operator": "equals", "value": "lots"},
            trigger={"type": "record.created", "module": "deals"},
        ),
        "conditions[0].value",
        "number",
    ),
    (
        "number condition past the bounds",
        condition(
            {"field": "value", "operator": "greater_than", "value": "1e1000000"},
            trigger={"type": "record.created", "module": "deals"},
        ),
        "conditions[0].value",
        "too large",
    ),
    (
        "number condition with too many digits",
        condition(
            {"field": "value", "operator": "equals", "value": "0." + "9" * 5000},
            trigger={"type": "record.created", "module": "deals"},
        ),
        "conditions[0].value",
        "too many digits",
    ),
    (
        "date condition past the range",
        condition(
            {"field": "close_date", "operator": "less_than", "value": "0001-01-01T00:00:00+23:00"},
            trigger={"type": "record.created", "module": "deals"},
        ),
        "conditions[0].value",
        "out of range",
    ),
    (
        "conditions on a schedule trigger",
        condition({"field": "name", "operator": "is_empty"}, trigger=SCHEDULE),
        "conditions",
        "no record",
    ),
    ("more than 100 conditions", body(conditions=FORTY_ONE), "conditions", "at most 100"),
    # --- actions
    ("actions missing", body(actions=None), "actions", "required"),
    ("actions empty", body(actions=[]), "actions", "at least one"),
    ("actions not a list", body(actions=HOOK), "actions", "list"),
    ("more than 50 actions", body(actions=[HOOK] * 51), "actions", "at most 50"),
    ("action not an object", body(actions=["call_webhook"]), "actions[0]", "object"),
    ("action type missing", body(actions=[{"config": {}}]), "actions[0].type", "required"),
    (
        "action type unknown",
        body(actions=[{"type": "send_fax", "config": {}}]),
        "actions[0].type",
        "unknown action type",
    ),
    (
        "action config missing",
        body(actions=[{"type": "call_webhook"}]),
        "actions[0].config",
        "required",
    ),
    (
        "action config not an object",
        body(actions=[{"type": "call_webhook", "config": []}]),
        "actions[0].config",
        "object",
    ),
    (
        "action unknown key",
        body(actions=[{**HOOK, "when": "now"}]),
        "actions[0].when",
        "unknown key",
    ),
    (
        "second action's path is exact",
        body(actions=[HOOK, {"type": "call_webhook", "config": {"url": "ftp://x"}}]),
        "actions[1].config.url",
        "http",
    ),
    # update_record
    (
        "update_record updates missing",
        action("update_record", {"record": "trigger"}),
        "actions[0].config.updates",
        "required",
    ),
    (
        "update_record updates not an object",
        action("update_record", {"record": "trigger", "updates": ["status"]}),
        "actions[0].config.updates",
        "object",
    ),
    (
        "update_record unknown field",
        action("update_record", {"record": "trigger", "updates": {"colour": "red"}}),
        "actions[0].config.updates.colour",
        "unknown field 'colour'",
    ),
    (
        "update_record literal of the wrong type",
        action("update_record", {"record": "trigger", "updates": {"processed_at": "soon"}}),
        "actions[0].config.updates.processed_at",
        "ISO 8601",
    ),
    (
        "update_record read-only field",
        action("update_record", {"record": "trigger", "updates": {"id": "rec_x"}}),
        "actions[0].config.updates.id",
        "read-only",
    ),
    (
        "update_record record neither trigger nor related",
        action("update_record", {"record": "parent", "updates": {"status": "x"}}),
        "actions[0].config.record",
        "'trigger' or 'related'",
    ),
    (
        "update_record trigger record of a schedule",
        action(
            "update_record", {"record": "trigger", "updates": {"status": "x"}}, trigger=SCHEDULE
        ),
        "actions[0].config.record",
        "no triggering record",
    ),
    (
        "update_record trigger record of record.deleted",
        action("update_record", {"record": "trigger", "updates": {"status": "x"}}, trigger=DELETED),
        "actions[0].config.record",
        "no longer exists",
    ),
    (
        "update_record related without module",
        action(
            "update_record",
            {"record": "related", "record_id": "{{record.account_id}}", "updates": {"status": "x"}},
        ),
        "actions[0].config.module",
        "required",
    ),
    (
        "update_record related module unknown",
        action(
            "update_record",
            {
                "record": "related",
                "module": "planets",
                "record_id": "{{record.account_id}}",
                "updates": {"status": "x"},
            },
        ),
        "actions[0].config.module",
        "unknown module",
    ),
    (
        "update_record related without record_id",
        action(
            "update_record", {"record": "related", "module": "accounts", "updates": {"status": "x"}}
        ),
        "actions[0].config.record_id",
        "required",
    ),
    (
        "update_record related record_id malformed",
        action(
            "update_record",
            {
                "record": "related",
                "module": "accounts",
                "record_id": "42",
                "updates": {"status": "x"},
            },
        ),
        "actions[0].config.record_id",
        "rec_",
    ),
    (
        "update_record related field of the other module",
        action(
            "update_record",
            {
                "record": "related",
                "module": "accounts",
                "record_id": "{{record.account_id}}",
                "updates": {"email": "x"},
            },
        ),
        "actions[0].config.updates.email",
        "unknown field 'email' in module 'accounts'",
    ),
    (
        "update_record module given for the trigger record",
        action(
            "update_record", {"record": "trigger", "module": "accounts", "updates": {"status": "x"}}
        ),
        "actions[0].config.module",
        "only used with record 'related'",
    ),
    # create_record
    (
        "create_record module missing",
        action("create_record", {"data": {"name": "x"}}),
        "actions[0].config.module",
        "required",
    ),
    (
        "create_record module unknown",
        action("create_record", {"module": "planets", "data": {"name": "x"}}),
        "actions[0].config.module",
        "unknown module",
    ),
    (
        "create_record data missing",
        action("create_record", {"module": "tasks"}),
        "actions[0].config.data",
        "required",
    ),
    (
        "create_record unknown field",
        action("create_record", {"module": "tasks", "data": {"name": "x", "colour": "red"}}),
        "actions[0].config.data.colour",
        "unknown field",
    ),
    (
        "create_record required field missing",
        action("create_record", {"module": "tasks", "data": {"priority": "high"}}),
        "actions[0].config.data",
        "'name' is required",
    ),
    (
        "create_record select value not an option",
        action("create_record", {"module": "tasks", "data": {"name": "x", "priority": "whenever"}}),
        "actions[0].config.data.priority",
        "must be one of",
    ),
    # send_email
    (
        "send_email to missing",
        action("send_email", {"template": "welcome_email"}),
        "actions[0].config.to",
        "required",
    ),
    (
        "send_email to not an address",
        action("send_email", {"to": "someone", "template": "welcome_email"}),
        "actions[0].config.to",
        "not a valid email",
    ),
    (
        "send_email template unknown",
        action("send_email", {"to": "{{record.email}}", "template": "goodbye_email"}),
        "actions[0].config.template",
        "unknown email template 'goodbye_email'",
    ),
    (
        "send_email no content",
        action("send_email", {"to": "{{record.email}}"}),
        "actions[0].config",
        "template, or a subject and a body",
    ),
    (
        "send_email subject without body",
        action("send_email", {"to": "{{record.email}}", "subject": "Hi"}),
        "actions[0].config.body",
        "required",
    ),
    (
        "send_email template and subject",
        action(
            "send_email", {"to": "{{record.email}}", "template": "welcome_email", "subject": "Hi"}
        ),
        "actions[0].config.subject",
        "not both",
    ),
    (
        "send_email cc not an address",
        action(
            "send_email",
            {
                "to": "{{record.email}}",
                "template": "welcome_email",
                "cc": ["ok@example.com", "nope"],
            },
        ),
        "actions[0].config.cc[1]",
        "not a valid email",
    ),
    (
        "send_email unknown key",
        action(
            "send_email", {"to": "{{record.email}}", "template": "welcome_email", "attachments": []}
        ),
        "actions[0].config.attachments",
        "unknown key",
    ),
    # send_notification
    (
        "send_notification user_id missing",
        action("send_notification", {"title": "t", "message": "m"}),
        "actions[0].config.user_id",
        "required",
    ),
    (
        "send_notification user not a member",
        action("send_notification", {"user_id": 987654, "title": "t", "message": "m"}),
        "actions[0].config.user_id",
        "not a member",
    ),
    (
        "send_notification title missing",
        action("send_notification", {"user_id": "{{record.owner_id}}", "message": "m"}),
        "actions[0].config.title",
        "required",
    ),
    (
        "send_notification message missing",
        action("send_notification", {"user_id": "{{record.owner_id}}", "title": "t"}),
        "actions[0].config.message",
        "required",
    ),
    (
        "send_notification link not a URL",
        action(
            "send_notification",
            {
                "user_id": "{{record.owner_id}}",
                "title": "t",
                "message": "m",
                "link": "javascript:alert(1)",
            },
        ),
        "actions[0].config.link",
        "http",
    ),
    # call_webhook
    (
        "call_webhook url missing",
        action("call_webhook", {"method": "POST"}),
        "actions[0].config.url",
        "required",
    ),
    (
        "call_webhook url not http(s)",
        action("call_webhook", {"url": "ftp://example.com/x"}),
        "actions[0].config.url",
        "http",
    ),
    (
        "call_webhook url malformed",
        action("call_webhook", {"url": "https://"}),
        "actions[0].config.url",
        "not a valid URL",
    ),
    (
        "call_webhook templated url without a scheme",
        action("call_webhook", {"url": "example.com/{{record.id}}"}),
        "actions[0].config.url",
        "http",
    ),
    (
        "call_webhook method unknown",
        action("call_webhook", {"url": "https://example.com", "method": "FETCH"}),
        "actions[0].config.method",
        "GET, POST, PUT, PATCH, DELETE",
    ),
    (
        "call_webhook headers not an object",
        action("call_webhook", {"url": "https://example.com", "headers": "X-A: b"}),
        "actions[0].config.headers",
        "object",
    ),
    (
        "call_webhook header value not a string",
        action("call_webhook", {"url": "https://example.com", "headers": {"X-Count": 3}}),
        "actions[0].config.headers.X-Count",
        "string",
    ),
    (
        "call_webhook header name invalid",
        action("call_webhook", {"url": "https://example.com", "headers": {"Bad Header": "x"}}),
        "actions[0].config.headers.Bad Header",
        "not a valid header name",
    ),
    (
        "call_webhook timeout too long",
        action("call_webhook", {"url": "https://example.com", "timeout": 31}),
        "actions[0].config.timeout",
        "between 1 and 30",
    ),
    # delay
    (
        "delay unit unknown",
        action("delay", {"duration": 5, "unit": "weeks"}),
        "actions[0].config.unit",
        "unknown unit",
    ),
    (
        "delay duration missing",
        action("delay", {"unit": "minutes"}),
        "actions[0].config.duration",
        "required",
    ),
    (
        "delay seconds over the maximum",
        action("delay", {"duration": 86401, "unit": "seconds"}),
        "actions[0].config.duration",
        "at most 86400 seconds",
    ),
    (
        "delay minutes over the maximum",
        action("delay", {"duration": 1441, "unit": "minutes"}),
        "actions[0].config.duration",
        "at most 1440 minutes",
    ),
    (
        "delay hours over the maximum",
        action("delay", {"duration": 25, "unit": "hours"}),
        "actions[0].config.duration",
        "at most 24 hours",
    ),
    (
        "delay days over the maximum",
        action("delay", {"duration": 8, "unit": "days"}),
        "actions[0].config.duration",
        "at most 7 days",
    ),
    (
        "delay duration not positive",
        action("delay", {"duration": 0, "unit": "minutes"}),
        "actions[0].config.duration",
        "positive",
    ),
    # templates
    (
        "template syntax error",
        template_in_webhook("Hi {{ record.name "),
        "actions[0].config.body.text",
        "syntax",
    ),
    (
        "template unknown variable",
        template_in_webhook("{{ customer.name }}"),
        "actions[0].config.body.text",
        "unknown variable 'customer.name'",
    ),
    (
        "template unknown record field",
        template_in_webhook("{{ record.colour }}"),
        "actions[0].config.body.text",
        "no field 'colour'",
    ),
    (
        "template unknown filter",
        template_in_webhook("{{ record.name | shout }}"),
        "actions[0].config.body.text",
        "unknown filter 'shout'",
    ),
    # filter arguments (issue 16.2): count and kind of literal arguments, in the user's names
    (
        "filter add_days without its number of days",
        action("create_record", {"module": "tasks", "data": {"name": "{{ now | add_days }}"}}),
        "actions[0].config.data.name",
        "add_days needs an argument (add_days: <number of days>), got none",
    ),
    (
        "filter date_format without its format",
        action("create_record", {"module": "tasks", "data": {"name": "{{ now | date_format }}"}}),
        "actions[0].config.data.name",
        "date_format needs an argument (date_format: <format>, [<timezone>]), got none",
    ),
    (
        "filter add_days with text",
        template_in_webhook('{{ now | add_days: "abc" }}'),
        "actions[0].config.body.text",
        "add_days: the number of days must be a whole number, got 'abc'",
    ),
    (
        "filter uppercase with arguments",
        template_in_webhook("{{ record.name | uppercase: 1, 2 }}"),
        "actions[0].config.body.text",
        "uppercase takes no arguments, got 2",
    ),
    (
        "filter plus with a number out of range",
        template_in_webhook("{{ record.name | plus: 99999999999999999999 }}"),
        "actions[0].config.body.text",
        "is out of range",
    ),
    (
        "template previous on a create trigger",
        template_in_webhook("{{ previous.status }}", trigger=CREATED),
        "actions[0].config.body.text",
        "previous values exist only for update triggers",
    ),
    (
        "template record on a schedule trigger",
        template_in_webhook("{{ record.name }}", trigger=SCHEDULE),
        "actions[0].config.body.text",
        "unknown variable 'record.name'",
    ),
    (
        "template in a header",
        action(
            "call_webhook",
            {"url": "https://example.com", "headers": {"X-Name": "{{ record.nme }}"}},
        ),
        "actions[0].config.headers.X-Name",
        "no field 'nme'",
    ),
    (
        "template in an update value",
        action(
            "update_record",
            {"record": "trigger", "updates": {"status": "{{ now | add_weeks: 1 }}"}},
        ),
        "actions[0].config.updates.status",
        "unknown filter 'add_weeks'",
    ),
    # error handling
    ("error_handling not an object", body(error_handling=True), "error_handling", "object"),
    (
        "error_handling unknown key",
        body(error_handling={"retry": 3}),
        "error_handling.retry",
        "unknown key",
    ),
    (
        "notify_on_failure not a boolean",
        body(error_handling={"notify_on_failure": "yes"}),
        "error_handling.notify_on_failure",
        "true or false",
    ),
    (
        "notify_email not an address",
        body(error_handling={"notify_email": "admin"}),
        "error_handling.notify_email",
        "not a valid email",
    ),
    (
        "disable_after_failures zero",
        body(error_handling={"disable_after_failures": 0}),
        "error_handling.disable_after_failures",
        "between 1 and 100",
    ),
    (
        "disable_after_failures not a number",
        body(error_handling={"disable_after_failures": "five"}),
        "error_handling.disable_after_failures",
        "whole number",
    ),
    # webhook secret
    (
        "webhook_secret on a record trigger",
        body(webhook_secret="whsec_" + "A" * 32),
        "webhook_secret",
        "only webhook triggers",
    ),
    (
        "webhook_secret malformed",
        body(trigger={"type": "webhook", "webhook_path": "in"}, webhook_secret="hunter2"),
        "webhook_secret",
        "whsec_",
    ),
]


@pytest.mark.parametrize(
    ("definition", "path", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_definition_is_400_naming_the_path_and_reason(api, definition, path, fragment):
    response = api.post("/v1/automations", definition, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert path in error["details"], error["details"]
    assert any(fragment in message for message in error["details"][path]), error["details"]
    assert not Automation.objects.exists()


def test_the_message_names_the_first_problem(api):
    response = api.post("/v1/automations", body(name=None), format="json")
    assert response.json()["error"]["message"] == "name: name is required"


def test_every_problem_is_reported_at_once(api):
    definition = {
        "trigger": {"type": "record.created", "module": "contacts"},
        "conditions": [{"field": "colour", "operator": "is_empty"}],
        "actions": [
            HOOK,
            {"type": "call_webhook", "config": {"url": "ftp://x"}},
            {"type": "delay", "config": {"duration": 9, "unit": "days"}},
        ],
        "timezone": "Nowhere",
    }

    details = api.post("/v1/automations", definition, format="json").json()["error"]["details"]

    assert {
        "name",
        "conditions[0].field",
        "actions[1].config.url",
        "actions[2].config.duration",
        "timezone",
    } <= set(details)


def test_body_that_is_not_an_object_is_400(api):
    response = api.post("/v1/automations", [SCHEDULE], format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_webhook_path_must_be_unique_in_the_workspace(api):
    hook = body(trigger={"type": "webhook", "webhook_path": "orders"})
    assert api.post("/v1/automations", hook, format="json").status_code == 201

    response = api.post("/v1/automations", hook, format="json")

    assert response.status_code == 400
    [message] = response.json()["error"]["details"]["trigger.webhook_path"]
    assert "already used" in message


def test_the_same_webhook_path_is_fine_in_another_workspace(api, other_tenant):
    hook = body(trigger={"type": "webhook", "webhook_path": "orders"})
    assert other_tenant.client.post("/v1/automations", hook, format="json").status_code == 201
    assert api.post("/v1/automations", hook, format="json").status_code == 201


def test_a_webhook_secret_is_accepted_on_a_webhook_trigger(api):
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    definition = body(trigger={"type": "webhook", "webhook_path": "signed"}, webhook_secret=secret)

    data = api.post("/v1/automations", definition, format="json").json()["data"]

    assert data["webhook_secret_set"] is True
    assert "webhook_secret" not in data
    assert Automation.objects.get(pk=data["id"]).webhook_secret == secret


def test_a_literal_user_that_is_a_member_is_accepted(api, tenant):
    definition = action(
        "send_notification", {"user_id": tenant.user.id, "title": "t", "message": "m"}
    )
    assert api.post("/v1/automations", definition, format="json").status_code == 201


def test_changed_operators_are_accepted_on_update_triggers(api):
    for trigger in (
        RECORD_UPDATED,
        {"type": "field.changed", "module": "contacts", "field": "status"},
    ):
        definition = condition(
            {"field": "status", "operator": "changed"},
            {"field": "status", "operator": "changed_from", "value": "new"},
            trigger=trigger,
        )
        assert api.post("/v1/automations", definition, format="json").status_code == 201


def test_previous_is_accepted_in_templates_of_update_triggers(api):
    definition = template_in_webhook("{{ previous.status }} -> {{ record.status }}")
    assert api.post("/v1/automations", definition, format="json").status_code == 201


def test_nested_condition_groups_are_validated_with_their_path(api):
    definition = condition(
        {
            "any": [
                {"field": "email", "operator": "is_empty"},
                {"field": "colour", "operator": "is_empty"},
            ]
        }
    )

    details = api.post("/v1/automations", definition, format="json").json()["error"]["details"]

    assert "conditions[0].any[1].field" in details
