"""Database constraints hold whatever the code above them does."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from takedown.models import InfringingURL, Notice, Platform, User

pytestmark = pytest.mark.django_db


def _url(artist, normalized="https://example.com/a"):
    return InfringingURL.objects.create(
        artist=artist,
        url=normalized,
        normalized_url=normalized,
        host="example.com",
        category="copyright",
        legal_route="dmca",
    )


def test_it_keeps_one_row_per_normalised_url_and_artist(artist):
    _url(artist)
    with pytest.raises(IntegrityError), transaction.atomic():
        _url(artist)


def test_it_refuses_a_removed_url_without_removal_time(artist):
    url = _url(artist)
    with pytest.raises(IntegrityError), transaction.atomic():
        InfringingURL.objects.filter(pk=url.pk).update(status="removed")
    InfringingURL.objects.filter(pk=url.pk).update(status="removed", removed_at=timezone.now())


def test_it_refuses_a_notice_approved_by_its_author(artist, staff, platforms):
    notice = Notice.objects.create(
        agency=artist.agency,
        artist=artist,
        platform=platforms["youtube"],
        legal_route="dmca",
        created_by=staff,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Notice.objects.filter(pk=notice.pk).update(reviewed_by=staff)


def test_it_refuses_a_sent_notice_without_sending_time(artist, staff, platforms):
    notice = Notice.objects.create(
        agency=artist.agency,
        artist=artist,
        platform=platforms["youtube"],
        legal_route="dmca",
        created_by=staff,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Notice.objects.filter(pk=notice.pk).update(status="sent", pdf_sha256="0" * 64)


def test_it_refuses_a_user_without_agency_unless_superuser(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="loose", role="staff")
    User.objects.create(username="root", is_superuser=True)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"hosts": ["https://bad.example/"]}, "hosts"),
        ({"markers": {"gone": ["x"]}}, "markers"),
        ({"channel_kind": "email", "channel_email": ""}, "channel_email"),
        ({"channel_kind": "webform", "channel_url": ""}, "channel_url"),
    ],
)
def test_it_validates_platform_registry_rows(db, fields, field):
    platform = Platform(slug="p", name="P", **{"hosts": ["p.example"], **fields})
    with pytest.raises(ValidationError) as exc:
        platform.full_clean()
    assert field in exc.value.message_dict


def test_it_ships_a_registry_of_real_platforms_with_sources(platforms):
    required = {
        "youtube",
        "x",
        "instagram",
        "facebook",
        "tiktok",
        "telegram",
        "reddit",
        "google_search",
        "naver",
        "daum_kakao",
        "dcinside",
        "pornhub",
        "xvideos",
        "cloudflare",
    }
    missing = required - set(platforms)
    assert not missing, f"registry lacks {missing}"
    assert len(platforms) >= 15
    for platform in platforms.values():
        assert platform.hosts, platform.slug
        assert platform.sources, platform.slug
        for url in platform.sources.values():
            assert url.startswith(("https://", "http://")), (platform.slug, url)
