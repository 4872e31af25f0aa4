"""A call_webhook URL whose host can never be allowed (a loopback name, or a loopback, private,
link-local or otherwise non-public IP literal in any spelling) is refused when the automation
is saved, not only when it runs; templated hosts are left to the run-time check, and
AUTOMATIONS_ALLOW_PRIVATE_URLS allows them at save as it does at run time."""

import pytest
from django.test import Client

from automations.models import Automation
from tests.web.helpers import builder_post

TRIGGER = {"type": "record.created", "module": "contacts"}
PATH = "actions[1].config.url"

NEVER_ALLOWED = [
    # loopback, in the spellings the resolver accepts
    "http://127.0.0.1/hook",
    "http://127.0.0.2:8080/hook",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.000.000.001/",
    "http://user:pass@127.0.0.1/",
    "http://public.example@127.0.0.1/",
    "http://127.0.0.1#@public.example/",
    "https://127.0.0.1:6379/",
    # names that are this machine (RFC 6761)
    "http://localhost:8000/admin/",
    "http://LOCALHOST./",
    "http://api.localhost/hook",
    # unspecified, private, link-local, CGNAT, multicast, reserved
    "http://0.0.0.0/",
    "http://0/",
    "http://10.0.0.1/",
    "http://012.0.0.1/",
    "http://167772161/",
    "http://172.16.0.1/",
    "http://192.168.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    # IPv6, and IPv4 inside IPv6
    "http://[::1]/",
    "http://[::]/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://[fe80::1%25lo]/",
    "http://[fec0::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::1]/",
    # a literal host followed by templates is still a literal host
    "http://10.0.0.1/{{record.id}}",
    "https://169.254.169.254?id={{record.id}}",
]

ACCEPTED = [
    "https://hooks.slack.com/services/T0/B0/x",
    "http://93.184.216.34/hook",
    "http://[2606:2800:220:1:248:1893:25c8:1946]/hook",
    "https://localhost.example.com/hook",  # only *.localhost itself is reserved
    # the host comes from data: checked on the address actually connected to, at run time
    "https://{{record.company}}/hook",
    "http://10.0.0.{{record.id}}/hook",
    "http://127.0.0.1{{record.name}}/hook",
]


def _definition(url):
    return {
        "name": "Hook",
        "trigger": TRIGGER,
        "actions": [
            {"type": "update_record", "config": {"updates": {"status": "seen"}}},
            {"type": "call_webhook", "config": {"url": url}},
        ],
    }


@pytest.fixture(autouse=True)
def _private_urls_refused(settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = False


@pytest.mark.parametrize("url", NEVER_ALLOWED)
def test_a_url_that_can_never_be_called_is_refused_at_save(api, url):
    response = api.post("/v1/automations", _definition(url), format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    [message] = error["details"][PATH]
    assert "not a public address" in message and "public hosts" in message, message
    assert not Automation.objects.exists()


def test_the_message_says_which_address_a_spelling_stands_for(api):
    response = api.post("/v1/automations", _definition("http://0x7f.1/"), format="json")
    assert response.json()["error"]["details"][PATH] == [
        "127.0.0.1 is not a public address: webhooks may only call public hosts"
    ]


@pytest.mark.parametrize("url", ACCEPTED)
def test_public_and_templated_hosts_are_accepted(api, url):
    response = api.post("/v1/automations", _definition(url), format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/hook", "http://localhost/x"])
def test_the_setting_allows_private_urls_at_save_as_at_run_time(api, settings, url):
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = True
    response = api.post("/v1/automations", _definition(url), format="json")
    assert response.status_code == 201, response.json()


def test_an_edit_cannot_point_a_saved_webhook_at_a_private_address(api):
    created = api.post("/v1/automations", _definition("https://example.com/hook"), format="json")
    automation_id = created.json()["data"]["id"]
    actions = _definition("http://192.168.0.10/hook")["actions"]

    response = api.patch(f"/v1/automations/{automation_id}", {"actions": actions}, format="json")

    assert response.status_code == 400
    assert PATH in response.json()["error"]["details"]
    saved = Automation.objects.get(id=automation_id)
    assert saved.actions[1]["config"]["url"] == "https://example.com/hook"


def test_the_builder_shows_the_refusal_beside_the_url(tenant):
    web = Client()
    web.force_login(tenant.user)
    response = web.post(
        "/automations/new",
        builder_post(
            "Hook", trigger=TRIGGER, actions=_definition("http://169.254.169.254/")["actions"]
        ),
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-error-for="{PATH}"' in html
    assert "169.254.169.254 is not a public address" in html
    assert not Automation.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999/hook",  # a private literal behind a port no URL can have
        "http://[::1]:65536/{{record.id}}",
        "https://example.com:99999/hook",
        "http://[::1/hook",
    ],
)
def test_a_url_whose_host_or_port_cannot_be_parsed_is_refused_at_save(api, url):
    """requests parses the URL with urllib3 and would refuse it at every run: so is it at
    save (Django's URLValidator takes any 5-digit port, and skips templated URLs)."""
    response = api.post("/v1/automations", _definition(url), format="json")

    assert response.status_code == 400, response.json()
    [message] = response.json()["error"]["details"][PATH]
    assert "is not a valid URL" in message, message
    assert not Automation.objects.exists()


@pytest.mark.parametrize(
    ("url", "address"), [("http://[::1]/", "::1"), ("http://[::]/", "::"), ("http://[::2]/", "::2")]
)
def test_an_ipv6_address_is_named_as_written_not_as_the_ipv4_inside(api, url, address):
    """::1 is IPv6's loopback, not "0.0.0.1" (the IPv4-compatible reading of ::/96)."""
    response = api.post("/v1/automations", _definition(url), format="json")
    assert response.json()["error"]["details"][PATH] == [
        f"{address} is not a public address: webhooks may only call public hosts"
    ]
