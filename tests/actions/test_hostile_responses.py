"""What a webhook receiver answers is stored in the action's log: hostile text there must not
break the run (the "actions" entrance of the JSON policy, issue 15)."""

import pytest
from werkzeug import Response

from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db


def test_a_response_body_with_nul_is_logged_with_a_replacement_character(tenant, httpserver):
    # PostgreSQL's jsonb cannot hold U+0000: the ActionRun's output made the worker's
    # transaction fail, so the run never finished.
    httpserver.expect_request("/in").respond_with_response(
        Response(b"ok\x00done", content_type="text/plain")
    )
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "deals"},
        actions=[{"type": "call_webhook", "config": {"url": httpserver.url_for("/in")}}],
    )
    make_record(tenant, "deals", name="Big")

    drain()

    [run] = runs_of(automation)
    assert run.status == "success"
    assert run.action_runs.get().output["body"] == "ok\ufffddone"
