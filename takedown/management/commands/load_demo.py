"""A fictional agency with three fictional artists, ~50 URLs and a demo user per role.

Everything here is invented: no real person, no real content. Passwords are generated and
printed once; run again with --reset-passwords to get new ones.
"""

from __future__ import annotations

import random
import secrets

from django.core.management.base import BaseCommand
from django.db import transaction

from takedown import importing, lifecycle
from takedown.choices import Category, Role, Source, URLStatus
from takedown.models import Agency, Artist, InfringingURL, RightsRecord, User

AGENCY = {
    "slug": "starlight",
    "name": "Starlight Entertainment (demo)",
    "name_ko": "스타라이트 엔터테인먼트",
    "address": "123 Example-ro, Gangnam-gu, Seoul 06000, Republic of Korea",
    "email": "legal@starlight.example",
    "phone": "+82 2-0000-0000",
    "website": "https://starlight.example",
    "signatory_name": "Jiyoon Han",
    "signatory_title": "Head of Legal",
}

ARTISTS = [
    {
        "slug": "luna-kang",
        "name": "Luna Kang",
        "name_ko": "강루나",
        "aliases": ["LUNA", "루나"],
        "official_accounts": ["https://x.com/luna_official_demo", "luna-kang.example.net"],
        "works": ["'Moonrise' official concept photo set (2026)", "'Moonrise' music video"],
    },
    {
        "slug": "daon-yoon",
        "name": "Daon Yoon",
        "name_ko": "윤다온",
        "aliases": ["DAON"],
        "official_accounts": ["https://www.instagram.com/daon_official_demo/"],
        "works": ["Daon Yoon 2026 season's greetings photo book"],
    },
    {
        "slug": "orbit-7",
        "name": "ORBIT-7",
        "name_ko": "오르빗세븐",
        "aliases": ["ORBIT7", "오빗"],
        "official_accounts": ["https://www.youtube.com/@orbit7_official_demo"],
        "works": [],
    },
]

USERS = [
    ("demo-staff", Role.STAFF, True, "Minseo", "Cho"),
    ("demo-legal", Role.LEGAL, True, "Jiyoon", "Han"),
    ("demo-manager", Role.MANAGER, True, "Hyunwoo", "Lim"),
    ("demo-api", Role.API, False, "Crawler", "Bot"),
]


def _demo_urls(rng: random.Random) -> list[dict]:
    def vid(n: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
        return "".join(rng.choice(alphabet) for _ in range(n))

    makers = [
        (lambda: f"https://www.youtube.com/watch?v={vid(11)}", Category.SYNTHETIC_SEXUAL),
        (lambda: f"https://youtu.be/{vid(11)}?si={vid(16)}", Category.IMPERSONATION),
        (
            lambda: f"https://x.com/fan{rng.randint(100, 999)}/status/{rng.randint(10**18, 10**19)}",
            Category.SYNTHETIC_SEXUAL,
        ),
        (
            lambda: f"https://twitter.com/leaks{rng.randint(10, 99)}/status/{rng.randint(10**18, 10**19)}?s=20",
            Category.REAL_INTIMATE,
        ),
        (
            lambda: f"https://t.me/deepfake_demo_{rng.randint(1, 40)}/{rng.randint(1, 9000)}",
            Category.SYNTHETIC_SEXUAL,
        ),
        (lambda: f"https://www.instagram.com/p/{vid(11)}/?igsh={vid(12)}", Category.IMPERSONATION),
        (
            lambda: f"https://www.tiktok.com/@clip{rng.randint(1, 999)}/video/{rng.randint(10**18, 10**19)}",
            Category.IMPERSONATION,
        ),
        (lambda: f"https://www.reddit.com/r/demo_sub/comments/{vid(6).lower()}/post/", Category.PRIVACY),
        (
            lambda: f"https://gall.dcinside.com/board/view/?id=demo&no={rng.randint(1, 99999)}",
            Category.PRIVACY,
        ),
        (
            lambda: f"https://blog.naver.com/demo{rng.randint(1, 999)}/{rng.randint(10**11, 10**12)}",
            Category.COPYRIGHT,
        ),
        (
            lambda: f"https://www.pornhub.com/view_video.php?viewkey={vid(13).lower()}",
            Category.SYNTHETIC_SEXUAL,
        ),
        (lambda: f"https://clips.example.net/v/{vid(8)}?utm_source=share", Category.SYNTHETIC_SEXUAL),
    ]
    rows = []
    for i in range(51):
        make, category = makers[i % len(makers)]
        artist = ARTISTS[i % len(ARTISTS)]
        if category == Category.COPYRIGHT and not artist["works"]:
            category = Category.IMPERSONATION
        rows.append(
            {
                "artist": artist["slug"],
                "url": make(),
                "category": category,
                "discovered_at": f"2026-{rng.randint(9, 11):02d}-{rng.randint(1, 20):02d}",
                "note": "demo data",
            }
        )
    # Two rows the intake refuses, as a reviewer would see in a real upload.
    rows.append(
        {
            "artist": "luna-kang",
            "url": "https://x.com/luna_official_demo/status/1",
            "category": "impersonation",
        }
    )
    rows.append({"artist": "luna-kang", "url": "http://192.168.0.10/admin", "category": "impersonation"})
    return rows


def _demo_history(agency: Agency, rng: random.Random) -> None:
    """Give two thirds of the demo URLs a past: notified weeks ago, most removed since, some overdue.

    Only outcome fields are set (no notices, no evidence): enough for the dashboard to show what
    a few months of use look like.
    """
    from datetime import timedelta

    from django.utils import timezone

    from takedown.rechecks import escalation_for

    now = timezone.now()
    urls = list(InfringingURL.objects.filter(artist__agency=agency).select_related("platform").order_by("pk"))
    speed = {
        "youtube": 20,
        "x": 60,
        "instagram": 30,
        "tiktok": 15,
        "telegram": 120,
        "reddit": 24,
        "naver": 18,
        "pornhub": 40,
        "dcinside": 200,
    }
    for url in urls[: len(urls) * 2 // 3]:
        url.notified_at = min(
            url.discovered_at + timedelta(days=rng.uniform(0.5, 4)), now - timedelta(days=2)
        )
        url.deadline_at = url.notified_at + timedelta(hours=48 if url.legal_route == "take_it_down" else 72)
        typical = speed.get(url.platform.slug if url.platform else "", 90)
        if rng.random() < 0.75:
            lifecycle.check_move(url.status, URLStatus.REMOVED)
            url.status = URLStatus.REMOVED
            url.removed_at = min(url.notified_at + timedelta(hours=rng.uniform(0.3, 2.5) * typical), now)
            url.reupload_count = 1 if rng.random() < 0.1 else 0
        else:
            lifecycle.check_move(url.status, URLStatus.NOTIFIED)
            url.status = URLStatus.NOTIFIED
            if url.deadline_at < now:
                url.overdue_since = url.deadline_at
                url.escalation = escalation_for(url)
        url.next_check_at = None
    InfringingURL.objects.bulk_update(
        urls,
        [
            "notified_at",
            "deadline_at",
            "status",
            "removed_at",
            "reupload_count",
            "overdue_since",
            "escalation",
            "next_check_at",
        ],
    )


class Command(BaseCommand):
    help = "Create the fictional demo agency, artists, URLs and one user per role."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords", action="store_true", help="give the demo users new passwords"
        )

    @transaction.atomic
    def handle(self, *args, **opts):
        agency, _ = Agency.objects.get_or_create(slug=AGENCY["slug"], defaults=AGENCY)
        for spec in ARTISTS:
            artist, _ = Artist.objects.get_or_create(
                agency=agency,
                slug=spec["slug"],
                defaults={k: spec[k] for k in ("name", "name_ko", "aliases", "official_accounts")},
            )
            for title in spec["works"]:
                RightsRecord.objects.get_or_create(
                    artist=artist,
                    title=title,
                    defaults={"owner": agency.name, "kind": RightsRecord.Kind.PHOTO},
                )
        report = importing.import_rows(_demo_urls(random.Random(20260519)), agency=agency, source=Source.CLI)
        if report.created:
            _demo_history(agency, random.Random(7))
            # The demo's URLs are invented: never send requests for them to the real platforms.
            InfringingURL.objects.filter(artist__agency=agency, note="demo data").update(next_check_at=None)
        self.stdout.write(
            f"Demo URLs: {report.created} created, {report.duplicates} already there, "
            f"{report.rejected} refused (on purpose: an official account and a private address)."
        )

        new_passwords = []
        for username, role, is_staff, first, last in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    agency=agency,
                    role=role,
                    is_staff=is_staff,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@starlight.example",
                )
            elif not opts["reset_passwords"]:
                continue
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save()
            new_passwords.append((username, role, password))
        if new_passwords:
            self.stdout.write("Demo users (passwords are shown once; --reset-passwords makes new ones):")
            for username, role, password in new_passwords:
                self.stdout.write(f"  {username:14} {role:8} {password}")
        else:
            self.stdout.write(
                "Demo users exist already (python manage.py load_demo --reset-passwords for new passwords)."
            )
