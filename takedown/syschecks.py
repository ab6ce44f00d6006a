"""Django system checks for settings that are dangerous in production."""

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=False)
def probe_loopback_check(app_configs, **kwargs):
    if settings.TAKEDOWN_PROBE_RESOLVE and not settings.DEBUG:
        return [
            Warning(
                "TAKEDOWN_PROBE_RESOLVE is set outside DEBUG: rechecks resolve those host names by hand.",
                hint="It exists for tests and demos; unset it in production.",
                id="takedown.W002",
            )
        ]
    if settings.TAKEDOWN_PROBE_ALLOW_LOOPBACK and not settings.DEBUG:
        return [
            Warning(
                "TAKEDOWN_PROBE_ALLOW_LOOPBACK is on outside DEBUG: rechecks may reach services on this "
                "machine's loopback addresses.",
                hint="It exists for tests and benchmarks; turn it off in production.",
                id="takedown.W001",
            )
        ]
    return []
