"""How the admin writes numbers, durations and stored English texts for people.

One unit rule for durations everywhere (figures, tables, charts): under a minute, minutes under
an hour, hours under three days, days beyond; each unit through gettext so that Korean pages
read "3.2시간", not "3.2 h". The escalation steps are stored in English (the export and the API
carry them as they are); the admin shows them in the reader's language.
"""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def duration(seconds: float | None) -> str:
    """ "< 1 min", "4 min", "3.2 h", "2.1 d" (translated); "–" for none."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return gettext("< 1 min")
    if seconds < 3600:
        return gettext("%(n)s min") % {"n": number_format(round(seconds / 60))}
    if seconds < 72 * 3600:
        return gettext("%(n)s h") % {"n": number_format(round(seconds / 3600, 1), 1)}
    return gettext("%(n)s d") % {"n": number_format(round(seconds / 86400, 1), 1)}


def percent_of(percent: int, total: int) -> str:
    return gettext("%(p)s%% of %(n)s") % {"p": percent, "n": total}


# rechecks.escalation_for's steps, as stored, and what a reader sees.
ESCALATION_STEPS = {
    "KCSC review request (방송통신심의위원회) via 디지털성범죄피해자지원센터": _(
        "KCSC review request (방송통신심의위원회) via 디지털성범죄피해자지원센터"
    ),
    "search-engine delisting (Google NCII / explicit deepfake form) and StopNCII hash": _(
        "search-engine delisting (Google NCII / explicit deepfake form) and StopNCII hash"
    ),
    "hosting provider, then CDN (Cloudflare abuse) and registrar abuse contact": _(
        "hosting provider, then CDN (Cloudflare abuse) and registrar abuse contact"
    ),
    "re-notify through the platform's escalation or DSA/legal channel": _(
        "re-notify through the platform's escalation or DSA/legal channel"
    ),
    "police report (사이버수사대 / ECRM)": _("police report (사이버수사대 / ECRM)"),
}


def escalation(stored: str) -> str:
    """The stored "; "-joined steps in the reader's language (unknown steps as stored)."""
    if not stored:
        return "–"
    return "; ".join(str(ESCALATION_STEPS.get(step, step)) for step in stored.split("; "))
