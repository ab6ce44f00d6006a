"""Rate limits per token: one budget for every request, a smaller one for imports.

The budget belongs to the token's user, not to one key: a user's keys share it, so issuing a
new key (rotation) does not reset the budget. Rates come from settings
(TAKEDOWN_API_RATE, TAKEDOWN_API_IMPORT_RATE) and are read per request, so changing them in
tests or with override_settings takes effect.
"""

from __future__ import annotations

import re

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

ENV_NAMES = {"api": "TAKEDOWN_API_RATE", "api_import": "TAKEDOWN_API_IMPORT_RATE"}
_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        user = request.user
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ImportRateThrottle(TokenRateThrottle):
    scope = "api_import"


def check_rates() -> None:
    """Fail at start-up, naming the variable, rather than with a 500 on the first request."""
    rates = api_settings.DEFAULT_THROTTLE_RATES
    for scope, env_name in ENV_NAMES.items():
        rate = rates.get(scope)
        if rate is not None and not _RATE.match(str(rate).strip()):
            raise ImproperlyConfigured(
                f"{env_name}={rate!r} is not a rate: use <requests>/<s|min|hour|day>, e.g. 1200/min"
            )
