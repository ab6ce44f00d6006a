"""The review workflow: freezing at submission, four-eyes review, conflicts, and what follows sending."""

from __future__ import annotations

import io
import threading
from datetime import datetime

import pypdf
import pytest
from django.db import connection
from django.utils import timezone

from takedown import notices, rendering
from takedown.models import InfringingURL, Notice, NoticeEvent
from tests.notices_setup import approve, import_urls

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("moves_are_declared")]


def test_it_submits_a_frozen_pdf_with_hangul_names_and_every_url(draft, staff):
    notice = notices.notice_submit(notice_id=draft.pk, user=staff)
    assert notice.status == "pending"
    assert notice.pdf_sha256 == rendering.sha256_hex(bytes(notice.pdf))
    assert notice.template.legal_route == "platform_policy"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(bytes(notice.pdf))).pages)
    folded = " ".join(text.split())
    assert "Luna Kang" in folded
    for url in ("https://t.me/leakchan/101", "https://t.me/leakchan/102"):
        assert url in folded.replace(" ", "") or url in folded
    assert "t.me/leakchan/101" in notice.rendered_text
    assert notice.rendered_subject
    events = list(notice.events.values_list("from_status", "to_status", "actor__username"))
    assert events == [("", "draft", "staff"), ("draft", "pending", "staff")]


def test_it_refuses_self_approval(telegram_urls, staff, legal):
    (own,), _ = notices.notices_prepare(user=legal, artist_id=telegram_urls[0].artist_id)
    notices.notice_submit(notice_id=own.pk, user=legal)
    with pytest.raises(notices.NotAllowed, match="another legal reviewer"):
        notices.notice_approve(notice_id=own.pk, user=legal)
    with pytest.raises(notices.NotAllowed, match="legal reviewer"):
        notices.notice_approve(notice_id=own.pk, user=staff)
    assert Notice.objects.get(pk=own.pk).status == "pending"


def test_it_hides_other_agencies_notices_from_reviewers(draft, staff, outsider):
    notices.notice_submit(notice_id=draft.pk, user=staff)
    outsider.role = "legal"
    outsider.save()
    with pytest.raises(Notice.DoesNotExist):
        notices.notice_approve(notice_id=draft.pk, user=outsider)


def test_it_requires_a_reason_to_reject_and_revises_into_a_new_draft(draft, staff, legal):
    notices.notice_submit(notice_id=draft.pk, user=staff)
    with pytest.raises(notices.Invalid):
        notices.notice_reject(notice_id=draft.pk, user=legal, reason="  ")
    rejected = notices.notice_reject(notice_id=draft.pk, user=legal, reason="Cite the victim's consent form")
    assert rejected.rejection_reason == "Cite the victim's consent form"
    new = notices.notice_revise(notice_id=draft.pk, user=staff)
    assert new.status == "draft" and new.revision_of_id == draft.pk
    assert set(new.items.values_list("url_id", flat=True)) == set(
        draft.items.values_list("url_id", flat=True)
    )
    with pytest.raises(notices.Conflict):
        notices.notice_revise(notice_id=draft.pk, user=staff)
    assert list(draft.events.values_list("to_status", flat=True)) == ["draft", "pending", "rejected"]


def test_it_conflicts_when_the_state_moved_underneath(draft, staff, legal, legal2):
    notices.notice_submit(notice_id=draft.pk, user=staff)
    notices.notice_approve(notice_id=draft.pk, user=legal)
    with pytest.raises(notices.Conflict, match="approved, not pending"):
        notices.notice_reject(notice_id=draft.pk, user=legal2, reason="too late")
    with pytest.raises(notices.Conflict):
        notices.notice_submit(notice_id=draft.pk, user=staff)


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_two_concurrent_reviewers_win(
    agency, artist, staff, legal, legal2, platforms, templates
):
    import_urls(agency, artist, ["https://t.me/leakchan/1"])
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    notices.notice_submit(notice_id=notice.pk, user=staff)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(name, call):
        barrier.wait()
        try:
            call()
            outcomes[name] = "won"
        except notices.Conflict:
            outcomes[name] = "conflict"
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=act, args=("approve", lambda: notices.notice_approve(notice_id=notice.pk, user=legal))
        ),
        threading.Thread(
            target=act,
            args=("reject", lambda: notices.notice_reject(notice_id=notice.pk, user=legal2, reason="no")),
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes.values()) == ["conflict", "won"]
    notice.refresh_from_db()
    winner = "approved" if outcomes["approve"] == "won" else "rejected"
    assert notice.status == winner
    assert list(notice.events.filter(from_status="pending").values_list("to_status", flat=True)) == [winner]


def test_it_closes_withdraws_and_records_counter_notices(draft, staff, legal):
    approve(draft, staff, legal)
    Notice.objects.filter(pk=draft.pk).update(channel="email")
    notice = notices.mark_sent(
        Notice.objects.get(pk=draft.pk), user=legal, sent_at=timezone.now(), reason="t"
    )
    notices.notice_acknowledge(notice_id=notice.pk, user=legal, reference="CASE-1")
    counter = notices.notice_record_counter(
        notice_id=notice.pk,
        user=legal,
        received_at=timezone.make_aware(datetime(2026, 11, 20, 9)),
        summary="Uploader claims fair use",
        counter_party="uploader",
    )
    # A platform-policy notice has no statutory restore window (DMCA's: tests/test_notice_truth.py).
    assert (counter.restore_earliest, counter.restore_latest) == (None, None)
    assert "appeal process" in NoticeEvent.objects.filter(notice=notice).last().reason
    with pytest.raises(notices.Invalid):
        notices.notice_close(notice_id=notice.pk, user=legal, outcome="maybe")
    with pytest.raises(notices.Invalid):
        notices.notice_withdraw(notice_id=notice.pk, user=legal, reason="")
    withdrawn = notices.notice_withdraw(
        notice_id=notice.pk, user=legal, reason="Filed against the wrong artist"
    )
    assert withdrawn.status == "withdrawn"
    assert set(
        InfringingURL.objects.filter(notice_items__notice=notice).values_list("status", flat=True)
    ) == {"open"}
    assert list(NoticeEvent.objects.filter(notice=notice).values_list("to_status", flat=True))[-3:] == [
        "acknowledged",
        "acknowledged",
        "withdrawn",
    ]


def test_a_notice_that_changes_while_it_renders_is_not_frozen(draft, staff, agency, artist, monkeypatch):
    """Legal approves exactly what is sent: URLs added to the draft while its PDF was being
    rendered (a large notice renders for a while) make the submission fail, not freeze a PDF
    that lists fewer URLs than the notice."""
    from takedown.models import NoticeItem
    from takedown.notices import workflow

    (late,) = import_urls(agency, artist, ["https://t.me/leakchan/777"])[-1:]
    real = workflow.render_notice_now

    def render_while_someone_adds(notice, **kwargs):
        out = real(notice, **kwargs)
        NoticeItem.objects.create(notice=notice, url=late)  # another request, meanwhile
        return out

    monkeypatch.setattr(workflow, "render_notice_now", render_while_someone_adds)
    with pytest.raises(notices.Conflict, match="changed while it was being rendered"):
        notices.notice_submit(notice_id=draft.pk, user=staff)
    assert (
        Notice.objects.get(pk=draft.pk).status == "draft" and not Notice.objects.get(pk=draft.pk).pdf_sha256
    )
