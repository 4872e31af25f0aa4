import pytest

pytestmark = pytest.mark.django_db


def test_vendor_modules_are_seeded_with_the_seeds_fields(api):
    modules = {m["slug"]: m for m in api.get("/v1/modules").json()["data"]}
    assert set(modules) >= {"contacts", "leads", "deals", "tasks", "accounts"}
    keys = lambda slug: {f["key"] for f in modules[slug]["fields"]}  # noqa: E731
    assert keys("contacts") >= {
        "name",
        "first_name",
        "email",
        "company",
        "source",
        "status",
        "owner_id",
        "account_id",
        "last_contact_date",
        "processed_at",
    }
    assert keys("deals") >= {"name", "value", "stage", "owner_id", "account_id"}
    assert keys("tasks") >= {"name", "due_date", "assigned_to", "related_contact", "priority"}
    assert keys("accounts") >= {"name", "last_contact_date"}
    assert modules["contacts"]["kind"] == "vendor"


def test_create_custom_module_and_fields(api):
    created = api.post("/v1/modules", {"slug": "projects", "name": "Projects"}, format="json")
    assert created.status_code == 201
    assert created.json()["data"]["kind"] == "custom"
    field = api.post(
        "/v1/modules/projects/fields",
        {"key": "budget", "label": "Budget", "type": "number"},
        format="json",
    )
    assert field.status_code == 201
    select = api.post(
        "/v1/modules/projects/fields",
        {"key": "phase", "label": "Phase", "type": "select", "options": ["plan", "build"]},
        format="json",
    )
    assert select.status_code == 201
    fields = api.get("/v1/modules/projects/fields").json()["data"]
    assert [f["key"] for f in fields] == ["budget", "phase"]
    record = api.post(
        "/v1/modules/projects/records", {"budget": "12", "phase": "build"}, format="json"
    )
    assert record.status_code == 201
    assert record.json()["data"]["budget"] == 12


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"slug": "Bad Slug", "name": "X"}, "slug"),
        ({"slug": "contacts", "name": "Dup"}, "slug"),
        ({"slug": "x", "name": ""}, "name"),
        ({"slug": "x", "name": "X", "color": "red"}, "color"),
        ({"slug": 5, "name": "X"}, "slug"),
    ],
)
def test_module_validation(api, body, path):
    response = api.post("/v1/modules", body, format="json")
    assert response.status_code == 400
    assert path in response.json()["error"]["details"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"key": "Bad Key", "label": "X", "type": "text"}, "key"),
        ({"key": "name", "label": "Dup", "type": "text"}, "key"),
        ({"key": "id", "label": "Id", "type": "text"}, "key"),
        ({"key": "x", "label": "X", "type": "colour"}, "type"),
        ({"key": "x", "label": "X", "type": "select"}, "options"),
        ({"key": "x", "label": "X", "type": "text", "options": ["a"]}, "options"),
        (
            {"key": "x", "label": "X", "type": "reference", "reference_module": "nope"},
            "reference_module",
        ),
        ({"key": "x", "label": "X", "type": "text", "required": "yes"}, "required"),
    ],
)
def test_field_validation(api, body, path):
    response = api.post("/v1/modules/contacts/fields", body, format="json")
    assert response.status_code == 400
    assert path in response.json()["error"]["details"]


def test_unknown_module_is_404(api):
    for url in ("/v1/modules/nope", "/v1/modules/nope/fields", "/v1/modules/nope/records"):
        response = api.get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_users_lists_members_and_me_is_the_key_user(api, tenant):
    users = api.get("/v1/users").json()["data"]
    assert users == [
        {
            "id": tenant.user.id,
            "email": tenant.user.email,
            "name": tenant.user.username,
            "role": "owner",
        }
    ]
    assert api.get("/v1/users/me").json()["data"]["id"] == tenant.user.id
