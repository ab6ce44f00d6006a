"""The notice workflow as staff and legal reviewers see it in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from takedown import importing, notices
from takedown.choices import NoticeStatus
from takedown.models import InfringingURL, Notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def youtube_urls(agency, artist, platforms, templates):
    importing.import_rows(
        [{"url": f"https://youtu.be/abcDEF1234{i}", "category": "synthetic_sexual"} for i in range(3)],
        agency=agency,
        artist=artist,
    )
    return list(InfringingURL.objects.filter(artist=artist))


def _action(client, notice, action, **data):
    # The confirmation page's "yes" (confirm=yes); without it nothing changes (see below).
    data.setdefault("confirm", "yes")
    return client.post(reverse("admin:takedown_notice_action", args=[notice.pk, action]), data)


def test_it_walks_a_youtube_notice_from_draft_to_sent(client, staff, legal, youtube_urls):
    client.force_login(staff)
    response = client.post(
        reverse("admin:takedown_infringingurl_changelist"),
        {"action": "prepare_notices", "_selected_action": [u.pk for u in youtube_urls]},
        follow=True,
    )
    assert "Draft notices ready" in response.content.decode()
    notice = Notice.objects.get()
    assert notice.platform.slug == "youtube" and notice.items.count() == 3

    page = client.get(reverse("admin:takedown_notice_change", args=[notice.pk]))
    assert 'id="action-submit"' in page.content.decode()
    assert 'id="action-approve"' not in page.content.decode()
    preview = client.get(reverse("admin:takedown_notice_preview_pdf", args=[notice.pk]))
    assert preview["Content-Type"] == "application/pdf" and preview.content.startswith(b"%PDF")
    _action(client, notice, "submit")
    notice.refresh_from_db()
    assert notice.status == "pending"
    # Staff cannot approve, even by posting directly.
    response = _action(client, notice, "approve")
    notice.refresh_from_db()
    assert notice.status == "pending"

    client.force_login(legal)
    queue = client.get(reverse("admin:takedown_notice_queue"))
    body = queue.content.decode()
    assert f'id="queue-{notice.pk}"' in body
    assert reverse("admin:takedown_notice_pdf", args=[notice.pk]) in body
    pdf = client.get(reverse("admin:takedown_notice_pdf", args=[notice.pk]))
    assert pdf.content == bytes(notice.pdf)
    assert pdf["X-Content-SHA256"] == notice.pdf_sha256
    assert pdf["X-Frame-Options"] == "SAMEORIGIN"
    response = _action(client, notice, "approve", next=reverse("admin:takedown_notice_queue"))
    # Back in the queue, which offers the next step for what was just approved.
    assert response.url == reverse("admin:takedown_notice_queue") + f"?approved={notice.pk}"
    next_step = client.get(response.url).content.decode()
    assert 'id="next-step"' in next_step and f"Notice #{notice.pk} is approved." in next_step
    notice.refresh_from_db()
    assert notice.status == "approved" and notice.reviewed_by == legal

    packet = client.get(reverse("admin:takedown_notice_packet", args=[notice.pk]))
    body = packet.content.decode()
    assert notice.platform.channel_url in body
    assert "https://www.youtube.com/watch?v=abcDEF12340" in body
    _action(client, notice, "send", reference="YT-REF-77")
    notice.refresh_from_db()
    assert (notice.status, notice.reference) == ("sent", "YT-REF-77")

    timeline = client.get(reverse("admin:takedown_notice_change", args=[notice.pk])).content.decode()
    for step in ("Draft", "Pending review", "Approved", "Sent"):
        assert step in timeline
    assert list(notice.events.values_list("to_status", flat=True)) == ["draft", "pending", "approved", "sent"]


def test_it_shows_presend_problems_and_refuses_to_submit(client, staff, agency, youtube_urls):
    agency.signatory_name = ""
    agency.save()
    client.force_login(staff)
    client.post(
        reverse("admin:takedown_infringingurl_changelist"),
        {"action": "prepare_notices", "_selected_action": [u.pk for u in youtube_urls]},
    )
    notice = Notice.objects.get()
    page = client.get(reverse("admin:takedown_notice_change", args=[notice.pk])).content.decode()
    assert 'id="presend-problems"' in page and "signatory" in page.lower()
    response = _action(client, notice, "submit")
    follow = client.get(response.url).content.decode()
    assert "signatory" in follow.lower()
    notice.refresh_from_db()
    assert notice.status == "draft"


def test_it_requires_a_reason_to_reject_in_the_queue(client, staff, legal, youtube_urls):
    from takedown import notices

    (notice,), _ = notices.notices_prepare(user=staff, artist_id=youtube_urls[0].artist_id)
    notices.notice_submit(notice_id=notice.pk, user=staff)
    client.force_login(legal)
    response = _action(client, notice, "reject", reason="")
    assert "needs a reason" in client.get(response.url).content.decode()
    _action(client, notice, "reject", reason="Add the consent statement")
    notice.refresh_from_db()
    assert notice.status == "rejected" and notice.rejection_reason == "Add the consent statement"


def test_it_hides_another_agencys_notice_pdf_and_actions(client, outsider, staff, youtube_urls):
    from takedown import notices

    (notice,), _ = notices.notices_prepare(user=staff, artist_id=youtube_urls[0].artist_id)
    notices.notice_submit(notice_id=notice.pk, user=staff)
    outsider.role = "legal"
    outsider.save()
    client.force_login(outsider)
    assert client.get(reverse("admin:takedown_notice_pdf", args=[notice.pk])).status_code == 404
    assert _action(client, notice, "approve").status_code == 404
    assert (
        f'id="queue-{notice.pk}"' not in client.get(reverse("admin:takedown_notice_queue")).content.decode()
    )
    notice.refresh_from_db()
    assert notice.status == "pending"


def test_it_versions_a_template_edited_in_the_admin_and_previews_it(client, legal, templates):
    from takedown.models import NoticeTemplate

    client.force_login(legal)
    template = NoticeTemplate.objects.get(legal_route="dsa", locale="en")
    change = reverse("admin:takedown_noticetemplate_change", args=[template.pk])
    data = {
        "name": template.name,
        "legal_route": "dsa",
        "locale": "en",
        "platform": "",
        "subject": template.subject,
        "body": template.body + "<p>Edited.</p>",
        "is_active": "on",
    }
    response = client.post(change, data)
    assert response.status_code == 302
    versions = list(
        NoticeTemplate.objects.filter(legal_route="dsa", locale="en").values_list(
            "version", "is_active", "agency_id"
        )
    )
    # The edit is the agency's own copy; the shipped default stays as it was for everyone else.
    assert sorted(versions, key=lambda v: v[0]) == [(1, True, None), (2, True, legal.agency_id)]
    bad = client.post(change, {**data, "body": "{{ ''.__class__.__mro__ }}"})
    assert bad.status_code == 200 and bad.context["adminform"].form.errors["body"]
    preview = client.get(reverse("admin:takedown_noticetemplate_preview", args=[template.pk]))
    assert preview.status_code == 200
    assert "sample data" in preview.content.decode()
    assert preview.context["rendered"].subject


def test_it_asks_before_any_state_change_and_says_what_will_happen(client, staff, legal, youtube_urls):
    client.force_login(staff)
    notice = notices.notices_prepare(user=staff, url_ids=[u.pk for u in youtube_urls])[0][0]
    url = reverse("admin:takedown_notice_action", args=[notice.pk, "submit"])

    page = client.post(url, {})

    assert page.status_code == 200
    body = page.content.decode()
    assert f"Submit notice #{notice.pk} for legal review?" in body
    assert 'name="confirm" value="yes"' in body and 'id="confirm-no"' in body
    assert Notice.objects.get(pk=notice.pk).status == NoticeStatus.DRAFT
    client.post(url, {"confirm": "yes"})
    assert Notice.objects.get(pk=notice.pk).status == NoticeStatus.PENDING


def test_it_offers_no_preselected_outcome_when_closing(client, staff, legal, youtube_urls):
    notice = notices.notices_prepare(user=staff, url_ids=[u.pk for u in youtube_urls])[0][0]
    notices.notice_submit(notice_id=notice.pk, user=staff)
    notices.notice_approve(notice_id=notice.pk, user=legal)
    client.force_login(legal)
    _action(client, notice, "send", reference="YT-REF-78")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT

    page = client.get(reverse("admin:takedown_notice_change", args=[notice.pk])).content.decode()

    close = page[page.index('id="action-close"') :]
    close = close[: close.index("</form>")]
    assert '<option value="" selected>' in close
    assert 'value="removed" selected' not in close
    assert 'id="delivery-facts"' in page and 'id="notice-deadline"' in page
    confirm = client.post(
        reverse("admin:takedown_notice_action", args=[notice.pk, "close"]), {"outcome": "refused"}
    ).content.decode()
    assert f"Close notice #{notice.pk} with the outcome “Refused”?" in confirm
    assert Notice.objects.get(pk=notice.pk).status == NoticeStatus.SENT


def test_a_draft_shows_its_text_and_hides_what_does_not_apply_yet(client, staff, youtube_urls):
    client.force_login(staff)
    notice = notices.notices_prepare(user=staff, url_ids=[u.pk for u in youtube_urls])[0][0]

    page = client.get(reverse("admin:takedown_notice_change", args=[notice.pk]))

    body = page.content.decode()
    assert 'id="notice-text"' in body and youtube_urls[0].normalized_url in body
    shown = {name for _t, group in page.context["adminform"].fieldsets for name in group["fields"]}
    assert not shown & {"sent_by", "sent_at", "outcome", "reviewed_by", "delivery_error", "message_id"}
    assert "Save and add another" not in body
