"""Per-platform detectors: where a plain GET is not enough, one small class per platform.

A detector may ``rewrite`` the item URL to the endpoint that tells the truth (X syndication,
Telegram's embed widget, Reddit's JSON), add request headers for that platform, and
``classify`` the page that ends the chain. ``classify`` returns None when it has no opinion;
the generic HTTP rules then decide. The platform's own page texts live in the Platform row
(PlatformRules.markers) and are tried before the detector; the built-in texts here are the
sourced defaults (each with its public source beside it), used when the row has none that
match.

Every fact is second-hand (help pages, open-source extractors, observed pages): where a fact
could not be verified the code says *unverified*. Adding a platform: docs/architecture.md.
"""

from takedown.probing.detectors import reddit, telegram, tiktok, web, x, youtube
from takedown.probing.detectors.base import DETECTORS, Detector, detector_for, register

__all__ = [
    "DETECTORS",
    "Detector",
    "detector_for",
    "reddit",
    "register",
    "telegram",
    "tiktok",
    "web",
    "x",
    "youtube",
]
