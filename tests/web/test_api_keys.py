from accounts.models import ApiKey


def test_creating_a_key_shows_it_once(web, tenant):
    response = web.post("/settings/api-keys/", {"name": "Zapier"})

    html = response.content.decode()
    key = ApiKey.objects.get(name="Zapier")
    plain = html.split('id="new-key" class="mono" type="text" readonly value="')[1].split('"')[0]
    assert plain.startswith(key.prefix)
    assert response["Cache-Control"] == "no-store"
    assert plain not in web.get("/settings/api-keys/").content.decode()


def test_the_new_key_works_on_the_api(web, client):
    html = web.post("/settings/api-keys/", {"name": "CI"}).content.decode()
    plain = html.split('readonly value="')[1].split('"')[0]

    response = client.get("/v1/automations", HTTP_AUTHORIZATION=f"Bearer {plain}")

    assert response.status_code == 200


def test_the_list_shows_prefix_owner_and_last_use(web, tenant):
    html = web.get("/settings/api-keys/").content.decode()

    assert f"{tenant.api_key.prefix}…" in html
    assert "never" in html
    assert tenant.key not in html


def test_revoking_a_key(web, tenant):
    response = web.post(f"/settings/api-keys/{tenant.api_key.id}/revoke")

    tenant.api_key.refresh_from_db()
    assert response.status_code == 302
    assert tenant.api_key.revoked_at is not None


def test_another_workspaces_key_cannot_be_revoked(web, other_tenant):
    response = web.post(f"/settings/api-keys/{other_tenant.api_key.id}/revoke")

    other_tenant.api_key.refresh_from_db()
    assert response.status_code == 404
    assert other_tenant.api_key.revoked_at is None


def test_api_keys_page_shows_the_outbound_webhook_signing_secret(web, tenant):
    from automations.signing import current_secret

    page = web.get("/settings/api-keys/")
    assert current_secret(tenant.workspace) in page.content.decode()
    assert page["Cache-Control"] == "no-store"  # a browser must not keep the secret
