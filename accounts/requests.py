"""The type of a request whose user is signed in (a `login_required` view's, the admin's).

Django types `request.user` as "a user or AnonymousUser" on every request; the views that only
a signed-in user reaches say so with this type instead of re-checking at run time.
"""

from typing import cast

from django.contrib.auth.models import User
from django.http import HttpRequest


class SignedInRequest(HttpRequest):
    """A request `login_required` (or the admin site) let through. Only a type."""

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The user of a request that only a signed-in user reaches (the admin's, whose hooks
    Django types with a plain HttpRequest)."""
    return cast(SignedInRequest, request).user
