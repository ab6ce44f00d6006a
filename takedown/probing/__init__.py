"""The safe HTTP liveness probe: URL in, evidence and a verdict out. No database.

    async with Prober(ProbeConfig()) as prober:
        result = await prober.probe(url, PlatformRules(detector="youtube", markers={...}))
        async for key, result in prober.probe_many((key, url, rules) for ...):
            ...

    results = probe_urls(urls, config, rules_for)   # synchronous, for tasks and commands

Layout: ``types`` (data in and out), ``safety`` (what may be connected to), ``page`` (a
response and its text), ``verdicts`` (the generic decision order), ``detectors`` (one class
per platform, by name from PlatformRules.detector), ``client`` (the Prober).
"""

from takedown.probing.client import Prober, parse_retry_after, probe_urls, run_probes
from takedown.probing.detectors import DETECTORS, Detector, detector_for, register
from takedown.probing.safety import Refused, ip_literal
from takedown.probing.types import (
    DEFAULT_RULES,
    INCONCLUSIVE,
    LEGALLY_BLOCKED,
    LIVE,
    MARKER_KINDS,
    REMOVED,
    RESTRICTED,
    SOFT_REMOVED,
    Finding,
    PlatformRules,
    ProbeConfig,
    ProbeResult,
)

__all__ = [
    "DEFAULT_RULES",
    "DETECTORS",
    "INCONCLUSIVE",
    "LEGALLY_BLOCKED",
    "LIVE",
    "MARKER_KINDS",
    "REMOVED",
    "RESTRICTED",
    "SOFT_REMOVED",
    "Detector",
    "Finding",
    "PlatformRules",
    "ProbeConfig",
    "ProbeResult",
    "Prober",
    "Refused",
    "detector_for",
    "ip_literal",
    "parse_retry_after",
    "probe_urls",
    "register",
    "run_probes",
]
