"""Routes under /v1 of the accounts app: the workspace's users and the caller."""

from django.urls import path

from accounts import api

urlpatterns = [
    path("users", api.UserListView.as_view()),
    path("users/me", api.MeView.as_view()),
]
