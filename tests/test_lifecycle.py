"""A URL's status moves only as the lifecycle table says, whoever moves it."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from takedown import lifecycle, rechecks
from takedown.admin.intake import describe_outcome
from takedown.choices import URLStatus, Verdict
from takedown.errors import Invalid, NotAllowed
from takedown.models import InfringingURL


def _url(status: str, *, notified: bool = False) -> InfringingURL:
    now = timezone.now()
    return InfringingURL(
        pk=1,
        status=status,
        notified_at=now - timedelta(days=1) if notified else None,
        streak_since=now - timedelta(hours=1),
        reupload_count=0,
    )


def test_only_sending_makes_a_url_notified_and_only_triage_touches_dismissed():
    into_notified = {source for (source, target) in lifecycle.MOVES if target == URLStatus.NOTIFIED}
    assert into_notified == {URLStatus.OPEN, URLStatus.RESTRICTED}
    assert lifecycle.MOVES[(URLStatus.OPEN, URLStatus.NOTIFIED)] == "sent"
    dismissed = {why for (s, t), why in lifecycle.MOVES.items() if URLStatus.DISMISSED in (s, t)}
    assert dismissed == {"triage"}
    with pytest.raises(Invalid, match="from dismissed to removed"):
        lifecycle.check_move(URLStatus.DISMISSED, URLStatus.REMOVED)


@given(
    status=st.sampled_from(URLStatus.values),
    verdict=st.sampled_from(Verdict.values),
    notified=st.booleans(),
)
def test_a_confirmed_verdict_moves_a_url_only_along_the_table(status, verdict, notified):
    url = _url(status, notified=notified)
    reason = lifecycle.confirm(url, verdict, timezone.now())
    if url.status == status:
        assert reason == ""
        assert not lifecycle.would_move(_url(status, notified=notified), verdict)
    else:
        assert lifecycle.MOVES[(status, url.status)] == reason
    assert status != URLStatus.DISMISSED or url.status == status, "a dismissed URL never moves"
    if verdict in (Verdict.LIVE, Verdict.INCONCLUSIVE):
        assert url.status not in lifecycle.GONE or url.status == status, "live never reads as removed"
    if url.status == URLStatus.REMOVED and status != URLStatus.REMOVED:
        assert url.removed_at is not None
    if reason == "reupload":
        assert url.reupload_count == 1 and url.removed_at is None


def test_a_live_open_url_is_not_rechecked_until_a_notice_is_sent():
    # Every imported URL is checked once at intake; one that is live is not "confirming"
    # anything, so it must not be fetched again every half hour for ever.
    class Live:
        verdict = Verdict.LIVE
        conclusive = True
        retry_after = None

    now = timezone.now()
    rng = random.Random(1)
    assert rechecks.next_check_at(_url(URLStatus.OPEN), now, Live, rng) is None
    assert rechecks.next_check_at(_url(URLStatus.NOTIFIED, notified=True), now, Live, rng) is not None

    class Removed(Live):
        verdict = Verdict.REMOVED

    soon = rechecks.next_check_at(_url(URLStatus.NOTIFIED, notified=True), now, Removed, rng)
    assert soon - now <= timedelta(minutes=40), "a removal in sight is confirmed soon"


def test_the_admin_describes_only_real_confirmations():
    live_open = rechecks.Outcome(1, Verdict.LIVE, URLStatus.OPEN, URLStatus.OPEN, 1, None, False)
    assert describe_outcome(live_open) == "#1: Live"
    gone = rechecks.Outcome(1, Verdict.REMOVED, URLStatus.NOTIFIED, URLStatus.NOTIFIED, 1, None, True)
    assert "confirming" in describe_outcome(gone)


@pytest.mark.django_db
def test_triage_moves_only_between_open_and_dismissed(artist, staff, manager):
    urls = [
        InfringingURL.objects.create(
            artist=artist,
            url=f"https://example.com/{i}",
            normalized_url=f"https://example.com/{i}",
            host="example.com",
            status=status,
            notified_at=None if status == URLStatus.OPEN else timezone.now(),
            removed_at=timezone.now() if status == URLStatus.REMOVED else None,
        )
        for i, status in enumerate([URLStatus.OPEN, URLStatus.NOTIFIED, URLStatus.REMOVED])
    ]
    ids = [u.pk for u in urls]
    with pytest.raises(Invalid, match="triage"):
        lifecycle.urls_set_status(
            url_ids=ids, to=URLStatus.NOTIFIED, allowed_from=[URLStatus.OPEN], user=staff
        )
    with pytest.raises(NotAllowed):
        lifecycle.urls_set_status(
            url_ids=ids, to=URLStatus.DISMISSED, allowed_from=[URLStatus.OPEN], user=manager
        )
    moved = lifecycle.urls_set_status(
        url_ids=ids, to=URLStatus.DISMISSED, allowed_from=[URLStatus.OPEN, URLStatus.NOTIFIED], user=staff
    )
    assert moved == 1
    assert list(InfringingURL.objects.filter(pk__in=ids).order_by("pk").values_list("status", flat=True)) == [
        URLStatus.DISMISSED,
        URLStatus.NOTIFIED,
        URLStatus.REMOVED,
    ]
