"""What ships with the code: the default templates (fixtures/notice_templates/) and the
fictional sample data that every template is checked against before it is saved."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from takedown.choices import Category, LegalRoute, Locale
from takedown.rendering.sandbox import _plain

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "notice_templates"

# -- sample data (fictional) -------------------------------------------------------------

SAMPLE_CONTEXT: dict[str, Any] = {
    "agency": {
        "name": "Starlight Entertainment",
        "name_ko": "스타라이트 엔터테인먼트",
        "address": "12 Example-ro, Gangnam-gu, Seoul 06000, Republic of Korea",
        "email": "legal@starlight.example",
        "phone": "+82 2 0000 0000",
        "website": "https://starlight.example",
    },
    "signatory": {
        "name": "Minji Park",
        "title": "Head of Legal Affairs",
        "email": "minji.park@starlight.example",
        "phone": "+82 2 0000 0001",
    },
    "artist": {"name": "Hana Lee", "name_ko": "이하나", "aliases": ["HANA", "하나"]},
    "platform": {
        "name": "ExampleTube",
        "slug": "exampletube",
        "channel_url": "https://tube.example/legal/report",
        "channel_email": "abuse@tube.example",
    },
    "route": {"code": LegalRoute.DMCA.value, "label": "DMCA 17 U.S.C. §512(c)(3)"},
    "works": [
        {
            "title": "Hana Lee - Moonrise (official music video)",
            "description": "Music video, first published 2025-03-14 by Starlight Entertainment",
            "url": "https://starlight.example/works/moonrise",
        }
    ],
    "items": [
        {
            "url": "https://tube.example/watch?v=Zx81aQ-fake&list=PL0000example",
            "category": Category.SYNTHETIC_SEXUAL.value,
            "category_label": "Synthetic sexual imagery (deepfake)",
            "discovered_at": "2026-05-18",
            "title": "hana deepfake",
            "body_sha256": "9f2c8e1d4b7a6c5e3f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
            "http_status": 200,
        },
        {
            "url": "https://tube.example/shorts/Qw12erTY-example",
            "category": Category.IMPERSONATION.value,
            "category_label": "Impersonation",
            "discovered_at": "2026-05-19",
            "title": "HANA official (fake account)",
            "body_sha256": "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "http_status": 200,
        },
        {
            "url": "https://files.tube.example/u/anon123/leak_2026-05-19_very_long_"
            "file_name_that_needs_wrapping_in_a_narrow_column.mp4?token=abcdef012345",
            "category": Category.COPYRIGHT.value,
            "category_label": "Copyright",
            "discovered_at": "2026-05-19",
            "title": "Moonrise full MV leak",
            "body_sha256": "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f",
            "http_status": 200,
        },
    ],
    "notice": {"reference": "N-2026-000123", "date": "2026-05-20", "locale": "en"},
}


# Plain strings: LegalRoute labels are lazy translations, unusable without settings.
_SAMPLE_ROUTE_LABELS = {
    LegalRoute.DMCA.value: "DMCA 17 U.S.C. §512(c)(3)",
    LegalRoute.TAKE_IT_DOWN.value: "US TAKE IT DOWN Act",
    LegalRoute.DSA.value: "EU DSA Art. 16",
    LegalRoute.KR_TBA.value: "Korea Telecommunications Business Act Art. 22-5",
    LegalRoute.KR_NETWORK.value: "Korea Network Act Art. 44-2",
    LegalRoute.PLATFORM_POLICY.value: "Platform policy (privacy / NCII / likeness)",
}


def sample_context(locale: str | None = None, route: str | None = None) -> dict[str, Any]:
    """A copy of SAMPLE_CONTEXT set to a locale and route."""
    context = _plain(SAMPLE_CONTEXT)
    if locale:
        context["notice"]["locale"] = str(locale)
    if route:
        context["route"] = {"code": str(route), "label": _SAMPLE_ROUTE_LABELS[str(route)]}
    return context


# -- default templates shipped in fixtures/ ----------------------------------------------


@dataclass(frozen=True)
class DefaultTemplate:
    route: str
    locale: str
    subject: str
    body: str
    path: Path


_SUBJECT_LINE = re.compile(r"\A\{#\s*subject:\s*(?P<subject>.*?)\s*#\}[ \t]*\r?\n")


def load_default_templates(directory: Path = DEFAULT_TEMPLATES_DIR) -> list[DefaultTemplate]:
    """The default templates: one `<route>.<locale>.html.j2` file per route and locale,
    whose first line is `{# subject: ... #}` (see the README in that folder)."""
    templates = []
    for path in sorted(Path(directory).glob("*.html.j2")):
        route, locale = path.name.removesuffix(".html.j2").split(".")
        LegalRoute(route)
        Locale(locale)
        source = path.read_text(encoding="utf-8")
        match = _SUBJECT_LINE.match(source)
        if not match:
            raise ValueError(f"{path.name}: the first line must be {{# subject: ... #}}")
        templates.append(
            DefaultTemplate(
                route=route,
                locale=locale,
                subject=match["subject"],
                body=source[match.end() :],
                path=path,
            )
        )
    return templates
