"""Routes of the API (v1) under /api/v1/, and the schema and docs under /api/."""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from takedown.api import cases, views
from takedown.api.throttling import check_rates

check_rates()

router = SimpleRouter()
router.register("artists", views.ArtistViewSet, basename="artist")
router.register("platforms", views.PlatformViewSet, basename="platform")
router.register("urls", views.URLViewSet, basename="url")
router.register("notices", views.NoticeViewSet, basename="notice")
router.register("contacts", views.AbuseContactViewSet, basename="contact")
router.register("accounts", cases.AccountViewSet, basename="account")
router.register("cases", cases.CaseViewSet, basename="case")

app_name = "api"
urlpatterns = [
    # Before the router: "import" must not be taken for a URL id (ids are digits only anyway).
    path("v1/urls/import/", views.URLImportView.as_view(), name="url-import"),
    path("v1/stats/", views.StatsView.as_view(), name="stats"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up code as a script file: the CSP allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^[\s\S]*$", views.not_found),  # [\s\S]: paths with a newline too
]
