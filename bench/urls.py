"""The benchmark's URLconf: every product URL, plus the S5 baselines, which are never part of
the product. Both are DRF views that return a constant, served by the same gunicorn, Django
middleware and settings as the product:

- /bench/bare: an APIView with the project's DRF defaults (Bearer API key authentication,
  workspace-member permission, per-key rate throttle), the baseline of every S5 figure;
- /bench/bare-anon: the same with authentication, permission and throttle turned off (its
  rate is reported for information).
"""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler400, handler404, handler500
from config.urls import urlpatterns as product_urls

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]


class BareView(APIView):
    def get(self, request: Request) -> Response:
        return Response({"data": {"ok": True}})


class BareAnonymousView(BareView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()


urlpatterns = [
    path("bench/bare", BareView.as_view()),
    path("bench/bare-anon", BareAnonymousView.as_view()),
    *product_urls,
]
