"""The Content-Security-Policy header, with frame-ancestors kept in step with X-Frame-Options.

A view that opts in to same-origin framing (xframe_options_sameorigin, as the approval queue's
PDF views do) gets frame-ancestors 'self'; every other response keeps the settings' 'none'. One
decorator then governs both headers, and the two can never disagree.
"""

from __future__ import annotations

from csp.constants import SELF
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts


class CSPMiddleware(BaseCSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and response.get("X-Frame-Options", "").upper() == "SAMEORIGIN":
            parts.replace = {**(parts.replace or {}), "frame-ancestors": [SELF]}
        return parts
