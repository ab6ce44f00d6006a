from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from takedown.api.admin import register as register_token_admin

# Before admin.site.urls is built: replaces DRF's unscoped token admin with the agency-scoped one.
register_token_admin()

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("takedown.api.urls")),
]
