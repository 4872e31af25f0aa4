import pytest


@pytest.mark.parametrize(
    "url",
    ["/automations/?q=%00", "/automations/?module=%00", "/records/contacts/?q=a%00b"],
)
def test_a_nul_in_a_query_is_refused_not_a_server_error(web, url):
    # PostgreSQL cannot store or compare NUL: it must never reach a query.
    response = web.get(url)
    assert response.status_code == 400
