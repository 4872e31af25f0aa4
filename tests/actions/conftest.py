# Action tests run runs in-process like the runtime tests: the same autouse fixtures apply.
from tests.runtime.conftest import _engine_settings, _fresh_matching_index, published

__all__ = ["_engine_settings", "_fresh_matching_index", "published"]
