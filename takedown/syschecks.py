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


@register(deploy=False)
def signing_key_permissions_check(app_configs, **kwargs):
    """A dossier signing key that others on the machine may read lets them sign as the agency."""
    import stat
    from pathlib import Path

    keys = [Path(settings.TAKEDOWN_SIGNING_KEY)] if settings.TAKEDOWN_SIGNING_KEY else []
    keys += sorted((Path(settings.TAKEDOWN_PRIVATE_DIR) / "signing").glob("*/key.pem"))
    warnings = []
    for key in keys:
        try:
            mode = key.stat().st_mode
        except OSError:
            continue
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            warnings.append(
                Warning(
                    f"The dossier signing key {key} may be read by other users of this machine "
                    f"(mode {stat.filemode(mode)}).",
                    hint=f"chmod 600 {key} (and keep its directory 700), owned by the user the app runs as.",
                    id="takedown.W003",
                )
            )
    return warnings
