from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from takedown.health import HealthView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Browsers ask for /favicon.ico wherever a page names no icon (a PDF, a JSON answer).
    path("favicon.ico", RedirectView.as_view(url="/static/takedown/favicon.svg", permanent=True)),
    path("admin/", admin.site.urls),
    path("api/", include("takedown.api.urls")),
    # Served by takedown.health.HealthMiddleware before host checks; named here for
    # `manage.py health_check health --no-http` on hosts that serve no HTTP (clusters).
    path("health/", HealthView.as_view(), name="health"),
]

# Every /api/ path answers a server error in the API's own shape, not Django's HTML page.
handler500 = "takedown.api.errors.server_error"
