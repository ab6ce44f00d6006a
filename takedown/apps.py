from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class TakedownConfig(AppConfig):
    default = True
    name = "takedown"
    verbose_name = _("Takedown")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from takedown import (  # noqa: F401  (register the sign-in receivers, the system checks)
            signin,
            syschecks,
        )

        post_migrate.connect(_install_rollup_triggers, sender=self)


def _install_rollup_triggers(sender, using="default", **kwargs) -> None:
    # SQLite drops a table's triggers when a migration rebuilds the table: put them back.
    from django.db import connections

    from takedown import rollup_sql

    rollup_sql.install(connections[using])


class TakedownAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with our site (its home page shows each role its work)."""

    default = False
    default_site = "takedown.admin.site.TakedownAdminSite"

    def ready(self) -> None:
        super().ready()
        from takedown.admin import register

        register()
