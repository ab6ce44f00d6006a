"""The notice workflow as staff and legal reviewers see it in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from takedown import importing
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
    assert response.url == reverse("admin:takedown_notice_queue")
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
