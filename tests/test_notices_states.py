"""The workflow table is the one statement of who may do what from which state: the services
refuse what it refuses, every move they make is one it declares, and the admin and the API
offer exactly what it allows."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from takedown import notices
from takedown.choices import NoticeStatus
from takedown.models import Notice, NoticeEvent
from takedown.notices.states import ACTIONS, BUTTONS, SYSTEM_MOVES, WORKFLOW
from tests.notices_setup import approve

pytestmark = pytest.mark.django_db

# Valid input for every action, so that only the table can refuse it.
GIVEN = {
    "reject": {"reason": "Cite the consent form"},
    "withdraw": {"reason": "Sent to the wrong platform"},
    "close": {"outcome": "removed"},
    "counter": {"summary": "The uploader claims fair use"},
    "send": {"reference": "CASE-1"},
    "acknowledge": {"reference": "CASE-1"},
    "confirm_sent": {"reason": "The platform confirmed receipt"},
    "resend": {"reason": "The platform has no record of it"},
    "cancel": {"reason": "The artist withdrew the authorization"},
}


def _given(action: str) -> dict:
    fields = dict(GIVEN.get(action, {}))
    if action == "counter":
        fields["received_at"] = timezone.now()
    return fields


def _force(notice: Notice, status: str) -> Notice:
    """Put a notice in any state, with the fields the database requires of that state."""
    Notice.objects.filter(pk=notice.pk).update(
        status=status, sent_at=timezone.now(), pdf_sha256="0" * 64, message_id="<TD-1@example.org>"
    )
    notice.refresh_from_db()
    return notice


def _declared_moves() -> set[tuple[str, str]]:
    moves = {("", NoticeStatus.DRAFT), *SYSTEM_MOVES}
    for action in ACTIONS:
        for source in action.sources:
            moves.add((source, action.target or source))
    return moves


@pytest.mark.parametrize("action", [a.name for a in ACTIONS if a.sources and a.name in notices.SERVICES])
def test_each_action_refuses_every_state_it_does_not_start_from(action, draft, legal2):
    act = WORKFLOW[action]
    for status in NoticeStatus.values:
        if status in act.sources:
            continue
        _force(draft, status)
        events = draft.events.count()
        with pytest.raises(notices.Conflict) as refused:
            notices.perform(action, notice_id=draft.pk, user=legal2, **_given(action))
        assert f"is {status}, not " in str(refused.value), (action, status)
        assert Notice.objects.get(pk=draft.pk).status == status
        assert draft.events.count() == events, "a refused action wrote to the timeline"


@pytest.mark.parametrize("action", list(notices.SERVICES))
def test_each_action_refuses_a_role_without_its_permission(action, draft, staff, manager, api_user):
    act = WORKFLOW[action]
    _force(draft, act.sources[0])
    refused_by = [u for u in (staff, manager, api_user) if not u.has_perm(f"takedown.{act.permission}")]
    assert refused_by, f"every role may {action}: the test would prove nothing"
    for user in refused_by:
        with pytest.raises(notices.NotAllowed, match=act.denied):
            notices.perform(action, notice_id=draft.pk, user=user, **_given(action))
    assert Notice.objects.get(pk=draft.pk).status == act.sources[0]


def test_the_four_eyes_actions_refuse_whoever_shaped_the_notice(draft, staff, legal, legal2):
    notices.notice_submit(notice_id=draft.pk, user=legal)  # legal submits: legal shaped it
    for action in [a.name for a in ACTIONS if a.four_eyes]:
        with pytest.raises(notices.NotAllowed, match="another legal reviewer"):
            notices.perform(action, notice_id=draft.pk, user=legal, **_given(action))
    assert notices.notice_approve(notice_id=draft.pk, user=legal2).status == NoticeStatus.APPROVED


def test_every_move_the_services_make_is_declared_in_the_table(
    draft, staff, legal, legal2, platforms, settings
):
    # One notice down each road: reject and revise; approve, send, acknowledge, close;
    # a second sent notice withdrawn; a counter-notice.
    notices.notice_submit(notice_id=draft.pk, user=staff)
    notices.notice_reject(notice_id=draft.pk, user=legal, reason="Add the artist's Korean name")
    revised = notices.notice_revise(notice_id=draft.pk, user=staff)
    approve(revised, staff, legal)
    # By email, through the whole delivery: queued, then accepted (delivered into memory here).
    from django.core.mail.backends.locmem import EmailBackend as InMemory

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    notices.notice_send(notice_id=revised.pk, user=legal)
    assert notices.notice_deliver_email(notice_id=revised.pk, connection=InMemory()) == "sent"
    notices.notice_record_counter(
        notice_id=revised.pk, user=legal2, received_at=timezone.now(), summary="Claims it is parody"
    )
    notices.notice_acknowledge(notice_id=revised.pk, user=legal)
    notices.notice_close(notice_id=revised.pk, user=legal2, outcome="removed")
    moves = set(NoticeEvent.objects.values_list("from_status", "to_status"))
    assert {
        ("pending", "rejected"),
        ("approved", "sending"),
        ("sending", "sent"),
        ("acknowledged", "closed"),
    } <= moves
    undeclared = moves - _declared_moves()
    assert not undeclared, f"moves the table does not declare: {undeclared}"


@pytest.mark.parametrize("status", NoticeStatus.values)
def test_the_admin_offers_exactly_the_buttons_the_table_allows(status, client, draft, staff, legal2):
    _force(draft, status)
    for user in (staff, legal2):
        client.force_login(user)
        page = client.get(reverse("admin:takedown_notice_change", args=[draft.pk])).content.decode()
        offered = {a.name for a in BUTTONS if f'id="action-{a.name}"' in page}
        expected = {
            a.name for a in BUTTONS if status in a.sources and user.has_perm(f"takedown.{a.permission}")
        }
        assert offered == expected, (user.role, status)


def test_the_admin_dispatches_by_the_table_and_refuses_what_it_does_not_declare(client, draft, staff):
    client.force_login(staff)
    url = reverse("admin:takedown_notice_action", args=[draft.pk, "submit"])
    client.post(url, {"confirm": "yes"})
    assert Notice.objects.get(pk=draft.pk).status == NoticeStatus.PENDING
    for undeclared in ("delete", "remove_items", "_move"):
        response = client.post(reverse("admin:takedown_notice_action", args=[draft.pk, undeclared]), {})
        assert response.status_code == 404, undeclared


def test_the_api_takes_its_permissions_and_descriptions_from_the_table():
    from takedown.api.permissions import NOTICE_ACTIONS, _what
    from takedown.api.views import NoticeViewSet, _summary

    for name in NOTICE_ACTIONS:
        assert NoticeViewSet.role_perms[name] == WORKFLOW[name].permission
        assert _summary(name).startswith(WORKFLOW[name].summary)
    # The role message lists every API action that needs the permission, and only those.
    assert _what("review_notice") == "approve, reject or send notices (legal reviewers only)"
    assert _summary("submit") == "Submit a draft for legal review (staff and legal reviewers)"
