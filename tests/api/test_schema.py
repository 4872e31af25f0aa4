from concurrent.futures import ThreadPoolExecutor

from django.test import Client

from config.api import schema_view


def test_concurrent_first_requests_for_the_schema_all_succeed_and_agree():
    schema_view._cache.clear()

    def fetch(_: int) -> tuple[int, bytes]:
        response = Client().get("/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        return response.status_code, response.content

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(fetch, range(8)))
    assert {status for status, _ in results} == {200}
    assert len({content for _, content in results}) == 1
    assert b"/v1/automations" in results[0][1]


def test_query_values_cannot_add_schema_cache_entries():
    # Anyone may fetch the schema: a ?version= per request must not build and keep one each.
    schema_view._cache.clear()
    for version in ("a", "b", "c"):
        response = Client().get(
            f"/v1/schema?version={version}", HTTP_ACCEPT="application/vnd.oai.openapi+json"
        )
        assert response.status_code == 200
    assert len(schema_view._cache) == 1
