"""What ships with the code: the default templates (fixtures/notice_templates/) and the
fictional sample data that every template is checked against before it is saved."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from takedown import legal
from takedown.choices import Category, LegalRoute, Locale
from takedown.rendering.sandbox import _plain

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "notice_templates"

# -- sample data (fictional) -------------------------------------------------------------

_WORK = {
    "title": "Hana Lee - Moonrise (official music video)",
    "kind": "Video / music video",
    "description": "Music video, first published 2025-03-14 by Starlight Entertainment",
    "url": "https://starlight.example/works/moonrise",
    "registration": "C-2025-012345",
    "owner": "Starlight Entertainment",
    "owner_is_agency": True,
}
_PERSON = {"name": "Hana Lee", "name_ko": "이하나"}


def _evidence(sha256: str, day: str = "2026-05-19") -> dict[str, Any]:
    return {
        "checked": True,
        "date": day,
        "http_status": 200,
        "verdict": "live",
        "verdict_label": "Live",
        "sha256": sha256,
    }


_NOT_CHECKED = {
    "checked": False,
    "date": "",
    "http_status": None,
    "verdict": "",
    "verdict_label": "",
    "sha256": "",
}

# One item per category; sample_context() keeps those the route may carry.
_SAMPLE_ITEMS: list[dict[str, Any]] = [
    {
        "url": "https://tube.example/watch?v=Zx81aQ-fake&list=PL0000example",
        "category": Category.SYNTHETIC_SEXUAL.value,
        "category_label": "Synthetic sexual imagery (deepfake)",
        "discovered_at": "2026-05-18",
        "title": "hana deepfake",
        "evidence": _evidence("9f2c8e1d4b7a6c5e3f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a"),
        "facts": "",
    },
    {
        "url": "https://tube.example/v/intimate-leak-0042",
        "category": Category.REAL_INTIMATE.value,
        "category_label": "Real intimate imagery",
        "discovered_at": "2026-05-18",
        "title": "private video",
        "evidence": _NOT_CHECKED,
        "facts": "Recorded privately in 2024; first posted on 2026-05-17 by an account unknown to the "
        "person, who has never agreed to its publication.",
    },
    {
        "url": "https://tube.example/shorts/Qw12erTY-example",
        "category": Category.IMPERSONATION.value,
        "category_label": "Impersonation",
        "discovered_at": "2026-05-19",
        "title": "HANA official (fake account)",
        "evidence": _evidence("0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"),
        "facts": "",
    },
    {
        "url": "https://tube.example/c/hana-home-address-thread",
        "category": Category.PRIVACY.value,
        "category_label": "Privacy / harassment",
        "discovered_at": "2026-05-19",
        "title": "where she lives",
        "evidence": _NOT_CHECKED,
        "facts": "",
    },
    {
        "url": "https://files.tube.example/u/anon123/leak_2026-05-19_very_long_"
        "file_name_that_needs_wrapping_in_a_narrow_column.mp4?token=abcdef012345",
        "category": Category.COPYRIGHT.value,
        "category_label": "Copyright",
        "discovered_at": "2026-05-19",
        "title": "Moonrise full MV leak",
        "evidence": _evidence("f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f"),
        "facts": "",
    },
]

_AUTHORIZATION = {
    "reference": "AUTH-000007",
    "person": "Hana Lee",
    "person_ko": "이하나",
    "scope": "Requests to remove sexual deepfakes, intimate images, impersonation and private "
    "information about Hana Lee, and the correspondence that follows.",
    "valid_from": "2026-01-01",
    "valid_until": "2027-12-31",
    "documents": ["id_copy", "power_of_attorney"],
}

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
        "name_ko": "박민지",
        "title_ko": "법무팀장",
        "email": "minji.park@starlight.example",
        "phone": "+82 2 0000 0001",
    },
    "artist": {"name": "Hana Lee", "name_ko": "이하나", "aliases": ["HANA", "하나"], "is_group": False},
    "platform": {
        "name": "ExampleTube",
        "slug": "exampletube",
        "channel_url": "https://tube.example/legal/report",
        "channel_email": "abuse@tube.example",
    },
    "channel": {
        "kind": "webform",
        "address": "https://tube.example/legal/report",
        "label": "Legal report form",
        "designated_agent": False,
        "requires_documents": True,
        "attaches_documents": True,
    },
    "route": {
        "code": LegalRoute.DMCA.value,
        "label": "DMCA 17 U.S.C. §512(c)(3)",
        "clock": {"rule": "", "basis": "", "counter_notice": ""},
    },
    "dsa": {"code": "FR", "member_state": "France"},
    "works": [_WORK],
    "authorizations": [_AUTHORIZATION],
    "authorities": [
        {"basis": "authorization", "holder": "Hana Lee", "reference": "AUTH-000007"},
        {"basis": "owner", "holder": "Starlight Entertainment", "reference": ""},
    ],
    "items": [],
    "notice": {"reference": "N-2026-000123", "date": "2026-05-20", "locale": "en"},
}


# Plain strings: LegalRoute labels are lazy translations, unusable without settings.
_SAMPLE_ROUTE_LABELS = {
    LegalRoute.DMCA.value: "DMCA 17 U.S.C. §512(c)(3)",
    LegalRoute.TAKE_IT_DOWN.value: "US TAKE IT DOWN Act",
    LegalRoute.DSA.value: "EU DSA Art. 16",
    LegalRoute.KR_TBA.value: "Korea Telecommunications Business Act Art. 22-5",
    LegalRoute.KR_NETWORK.value: "Korea Network Act Art. 44-2",
    LegalRoute.KR_COPYRIGHT.value: "Korea Copyright Act Art. 103",
    LegalRoute.PLATFORM_POLICY.value: "Platform policy (privacy / NCII / likeness)",
}


def sample_items(route: str, locale: str) -> list[dict[str, Any]]:
    """The sample items the route may carry, each with what a notice would record for it on
    that route: its ground, the work it copies, the person it depicts."""
    items = []
    for sample in _SAMPLE_ITEMS:
        category = sample["category"]
        if not legal.may_carry(route, category):
            continue
        about_work = legal.item_about_work(route, category)
        ground = legal.item_ground(route, category, locale=locale, member_state="FR")
        evidence = dict(sample["evidence"])
        items.append(
            {
                **sample,
                "evidence": evidence,
                "body_sha256": evidence["sha256"],
                "http_status": evidence["http_status"],
                "about": "work" if about_work else "person",
                "work": dict(_WORK) if about_work else None,
                "person": None if about_work else dict(_PERSON),
                "ground": {"provision": ground.provision, "source_url": ground.source_url}
                if ground
                else None,
            }
        )
    return items


# Every category once, as a DSA notice (which carries them all) would list them.
SAMPLE_CONTEXT["items"] = sample_items(LegalRoute.DSA.value, Locale.EN.value)


def sample_context(locale: str | None = None, route: str | None = None) -> dict[str, Any]:
    """A copy of SAMPLE_CONTEXT set to a locale and route, with the items that route may carry."""
    context = _plain(SAMPLE_CONTEXT)
    locale = str(locale or Locale.EN)
    route = str(route or LegalRoute.DSA)
    context["notice"]["locale"] = locale
    clock = legal.ROUTE_CLOCKS[route]
    context["route"] = {
        "code": route,
        "label": _SAMPLE_ROUTE_LABELS[route],
        "clock": {
            "rule": clock.rule,
            "basis": legal.deadline_basis(route),
            "counter_notice": clock.counter_notice,
        },
    }
    context["items"] = sample_items(route, locale)
    context["channel"]["designated_agent"] = False
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
