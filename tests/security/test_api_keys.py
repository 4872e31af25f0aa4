"""API keys: a database dump holds no usable key, revocation is immediate, lookup is by hash.

The dump test commits real data (keys made by the service, the management command and the web
UI; keys used, revoked, and sent to an inbound webhook as a header) and then reads every row of
every table, plus `pg_dump` of the database when it runs on PostgreSQL. Every token-looking
string in the dump is then tried as a key.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import selectors
from accounts.models import ApiKey, hash_api_key
from accounts.selectors import api_key_by_plain
from accounts.services import api_key_create, api_key_revoke
from automations import signing
from automations.signing import current_secret
from tests.runtime.support import make_automation

TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,}")


def _bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _table_dump() -> str:
    """Every row of every table, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.append(f"-- {table}\n{cursor.fetchall()!r}")
    return "\n".join(chunks)


def _pg_dump() -> str | None:
    if connection.vendor != "postgresql" or not shutil.which("pg_dump"):
        return None
    params = connection.get_connection_params()
    command = ["pg_dump", "--data-only", "--no-owner", "-d", params["dbname"]]
    for flag, key in (("-h", "host"), ("-p", "port"), ("-U", "user")):
        if params.get(key):
            command += [flag, str(params[key])]
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "PGPASSWORD": params.get("password") or ""}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return result.stdout


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_contains_no_usable_api_key(tenant, other_tenant):
    keys = [tenant.key, other_tenant.key]
    # A key from the management command and one from the web UI.
    out = io.StringIO()
    call_command("create_api_key", "--workspace", "dumpcheck", "--email", "d@x.example", stdout=out)
    keys.append(out.getvalue().strip().splitlines()[-1])
    browser = APIClient()
    browser.force_login(tenant.user)
    page = browser.post(reverse("web:api_keys"), {"name": "from the UI"}).content.decode()
    [ui_key] = re.findall(r'value="(crm_[^"]+)"', page)
    keys.append(ui_key)
    revoked_model, revoked = api_key_create(workspace=tenant.workspace, user=tenant.user)
    keys.append(revoked)
    for key in keys:
        assert _bearer(key).get("/v1/users/me").status_code == 200
    api_key_revoke(api_key=revoked_model)
    # A key sent along to an inbound webhook must not end up in the run's trigger data.
    hook = make_automation(
        tenant,
        trigger={"type": "webhook", "webhook_path": "dump"},
        actions=[{"type": "delay", "config": {"duration": 1, "unit": "seconds"}}],
    )
    response = APIClient().post(
        f"/v1/webhooks/{hook.id}/dump",
        data=json.dumps({"a": 1}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tenant.key}",
        HTTP_X_API_KEY=other_tenant.key,
    )
    assert response.status_code == 202
    # One workspace's signing secret rotated (stored state), the other never (derived only).
    rotated = signing.rotate(workspace=other_tenant.workspace)
    signing_secrets = [
        current_secret(tenant.workspace),
        current_secret(rotated),
        signing.secret_for(rotated.id, rotated.previous_webhook_secret_nonce),
    ]

    dumps = [_table_dump()]
    pg = _pg_dump()
    if pg is not None:
        dumps.append(pg)
    dump = "\n".join(dumps)
    assert "accounts_apikey" in dump
    for key in keys:
        secret = key.removeprefix("crm_")
        assert key not in dump
        assert secret[:16] not in dump, "a large part of a key is stored"
        assert hash_api_key(key) in dump  # the hash is what is stored
    for secret in signing_secrets:
        assert secret not in dump and secret.removeprefix("whsec_")[:20] not in dump

    # Nothing in the dump works as a key: not the hashes, not the prefixes, nothing.
    tokens = set(TOKEN.findall(dump))
    assert len(tokens) > 20
    usable = [token for token in tokens if api_key_by_plain(token) is not None]
    assert usable == []
    for key_hash in ApiKey.objects.values_list("key_hash", flat=True):
        assert _bearer(key_hash).get("/v1/users/me").status_code == 401


@pytest.mark.django_db
def test_a_revoked_key_gets_401_on_the_very_next_request(tenant):
    assert tenant.client.get("/v1/automations").status_code == 200
    api_key_revoke(api_key=tenant.api_key)
    response = tenant.client.get("/v1/automations")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert tenant.client.post("/v1/automations", {}, format="json").status_code == 401


@pytest.mark.django_db
def test_a_revoked_key_is_401_through_the_web_ui_revoke_button(tenant):
    browser = APIClient()
    browser.force_login(tenant.user)
    assert tenant.client.get("/v1/users/me").status_code == 200
    response = browser.post(reverse("web:api_key_revoke", args=[tenant.api_key.pk]))
    assert response.status_code in (200, 302)
    assert tenant.client.get("/v1/users/me").status_code == 401


@pytest.mark.django_db
def test_the_key_lookup_is_one_indexed_query_on_the_hash(tenant):
    with CaptureQueriesContext(connection) as queries:
        key = api_key_by_plain(tenant.key)
    assert key is not None and key.pk == tenant.api_key.pk
    [query] = queries.captured_queries
    sql = query["sql"]
    assert hash_api_key(tenant.key) in sql
    assert tenant.key not in sql
    assert re.search(r'"key_hash" = ', sql)
    field = ApiKey._meta.get_field("key_hash")
    assert field.unique  # a unique index serves the lookup
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, ApiKey._meta.db_table)
    assert any(
        c["columns"] == ["key_hash"] and (c["unique"] or c["index"]) for c in constraints.values()
    )


@pytest.mark.django_db
def test_the_final_key_check_is_constant_time(tenant, monkeypatch):
    calls = []
    real = selectors.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(selectors.hmac, "compare_digest", spy)
    assert api_key_by_plain(tenant.key) is not None
    assert calls == [(tenant.api_key.key_hash, hash_api_key(tenant.key))]


@pytest.mark.django_db
def test_a_key_differing_in_one_character_is_refused(tenant):
    last = tenant.key[-1]
    forged = tenant.key[:-1] + ("A" if last != "A" else "B")
    assert _bearer(forged).get("/v1/users/me").status_code == 401
    assert _bearer(tenant.key.upper()).get("/v1/users/me").status_code == 401
    assert _bearer(tenant.api_key.prefix).get("/v1/users/me").status_code == 401


@pytest.mark.django_db
def test_keys_are_long_and_random(tenant):
    _, second = api_key_create(workspace=tenant.workspace, user=tenant.user)
    for key in (tenant.key, second):
        assert key.startswith("crm_") and len(key.removeprefix("crm_")) >= 43  # 256 bits
    assert tenant.key != second
