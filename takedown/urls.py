from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("takedown.api.urls")),
]

# Every /api/ path answers a server error in the API's own shape, not Django's HTML page.
handler500 = "takedown.api.errors.server_error"
