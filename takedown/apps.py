from django.apps import AppConfig


class TakedownConfig(AppConfig):
    name = "takedown"
    verbose_name = "Takedown"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from takedown import syschecks  # noqa: F401  (registers the system checks)
