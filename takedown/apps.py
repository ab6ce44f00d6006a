from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class TakedownConfig(AppConfig):
    default = True
    name = "takedown"
    verbose_name = _("Takedown")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from takedown import (  # noqa: F401  (register the sign-in receivers, the system checks)
            signin,
            syschecks,
        )


class TakedownAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with our site (its home page shows each role its work)."""

    default = False
    default_site = "takedown.admin.site.TakedownAdminSite"

    def ready(self) -> None:
        super().ready()
        from takedown.admin import register

        register()
