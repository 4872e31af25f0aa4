"""/v1/schema, generated once per process.

drf-spectacular builds the schema on every request, and two overlapping first requests in one
process could interfere (a 500 was seen under the load run); the schema is the same for every
caller (served public), so it is built once under a lock and reused.
"""

import threading
from typing import Any

from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

_lock = threading.Lock()
_cache: dict[Any, dict] = {}


class CachedSchemaView(SpectacularAPIView):
    def _get_schema_response(self, request) -> Response:
        # One schema per view: the API has one version, so nothing from the request (a
        # ?version= query value, say) may choose or add an entry; the cache stays one deep.
        version = self.api_version
        with _lock:
            if version not in _cache:
                generator = self.generator_class(
                    urlconf=self.urlconf, api_version=version, patterns=self.patterns
                )
                _cache[version] = generator.get_schema(request=request, public=self.serve_public)
        return Response(
            data=_cache[version],
            headers={
                "Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'
            },
        )
