import pytest

# Security tests run runs in-process like the runtime tests: the same autouse fixtures apply.
from tests.runtime.conftest import _fresh_matching_index, published

__all__ = ["_fresh_matching_index", "published"]


@pytest.fixture(autouse=True)
def _security_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = False
    return settings
