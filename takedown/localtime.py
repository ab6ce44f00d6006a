"""Every time a person reads is in their agency's time zone (`Agency.time_zone`).

The server's TIME_ZONE stays what the database and the logs use; each request of a signed-in
member of an agency activates that agency's zone, so the admin's lists, forms and date filters,
the dashboard's weeks and the exports all read in the same local time. Superusers, who see
every agency, keep the server's zone.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone


def zone_for(user) -> ZoneInfo | None:
    """The zone `user`'s agency reads times in, or None (the server's)."""
    agency = getattr(user, "agency", None) if getattr(user, "is_authenticated", False) else None
    return zone_of(agency)


def zone_of(agency) -> ZoneInfo | None:
    """The zone an agency reads times in (its documents too), or None (the server's)."""
    name = getattr(agency, "time_zone", "") if agency is not None else ""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # a row written around the validator
        return None


class AgencyTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = zone_for(getattr(request, "user", None))
        if zone is None:
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
