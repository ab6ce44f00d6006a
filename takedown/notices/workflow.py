"""The review and after-sending half of the workflow: submit, approve, reject, revise,
acknowledge, close, withdraw, counter-notices, and the route's clock.

Each public function checks the action against the table in `states` (role, four-eyes,
from-state) and moves the notice with `states.move`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from takedown import legal, lifecycle, rendering
from takedown.choices import NoticeOutcome, NoticeStatus, URLStatus
from takedown.errors import Conflict, Invalid, PresendFailed
from takedown.models import CounterNotice, EscalationStep, InfringingURL, Notice, NoticeItem, User
from takedown.notices.drafting import (
    notice_context,
    notice_documents,
    presend_problems,
    render_notice_now,
    standing_problems,
)
from takedown.notices.states import check, get_notice, move, record_event
from takedown.notices.templates import notice_template


def notice_submit(*, notice_id: int, user: User) -> Notice:
    """Run the pre-send checks, render and freeze the notice, and put it in legal's queue.

    Raises PresendFailed with every problem found, NotAllowed, Conflict, or
    rendering.TemplateError when the template cannot render this notice.
    """
    notice = get_notice(notice_id, user)
    check("submit", notice, user)
    rendered_items = _item_ids(notice)
    context = notice_context(notice)
    problems = presend_problems(notice, context=context)
    if problems:
        raise PresendFailed(problems)
    template = notice_template(notice)
    try:
        out = render_notice_now(notice, template=template, context=context)
    except rendering.MissingElements as exc:
        raise PresendFailed(
            [
                f"The template {template} renders without: {line}"
                for line in legal.describe(exc.route, exc.missing)
            ]
        ) from None
    except rendering.UnfoundedStatements as exc:
        raise PresendFailed(
            [f"The template {template} states what no item supports: {line}" for line in exc.statements]
        ) from None
    rendered, pdf = out.rendered, out.pdf
    with transaction.atomic():
        # What was rendered must still be the notice: items may have been added or removed, or
        # the language changed, while it rendered (a large notice renders for a while).
        locked = (
            Notice.objects.select_for_update()
            .filter(pk=notice.pk)
            .values_list("locale", "contact_id")
            .first()
        )
        if locked != (notice.locale, notice.contact_id) or _item_ids(notice) != rendered_items:
            raise Conflict(
                f"Notice #{notice.pk} changed while it was being rendered (its URLs, its recipient or its "
                "language): submit it again."
            )
        return move(
            notice,
            user=user,
            expected=NoticeStatus.DRAFT,
            to=NoticeStatus.PENDING,
            template=template,
            submitted_at=timezone.now(),
            submitted_by=user,
            rendered_subject=rendered.subject,
            rendered_html=rendered.html,
            rendered_text=rendered.text,
            pdf=pdf,
            pdf_sha256=out.pdf_sha256,
            data={
                "template": template.pk,
                "version": template.version,
                # What goes with the PDF, as approved: the channel's required documents.
                "documents": [
                    {"id": d.pk, "kind": d.kind, "sha256": d.sha256} for d in notice_documents(notice)
                ],
            },
        )


def _item_ids(notice: Notice) -> list[int]:
    return list(NoticeItem.objects.filter(notice=notice).order_by("url_id").values_list("url_id", flat=True))


def _review(*, action: str, notice_id: int, user: User, reason: str = "", **fields) -> Notice:
    """pending → approved or rejected, by a legal reviewer who did not shape the notice
    (the table's four-eyes rule); the event records which frozen PDF was reviewed.

    The contributors cannot change while the notice is pending (items are frozen at
    submission), so checking them before the conditional UPDATE is race-free.
    """
    notice = get_notice(notice_id, user)
    act = check(action, notice, user)
    if action == "approve":
        # The recipient or an escalation's URLs may have changed since submission (a contact
        # corrected or set aside, a URL withdrawn or removed): nothing is approved to go there.
        problems = standing_problems(notice)
        if problems:
            raise Conflict(
                "Not approved: "
                + " ".join(problems)
                + " Reject it, then revise it or prepare its URLs again."
            )
    with transaction.atomic():
        return move(
            notice,
            user=user,
            expected=NoticeStatus.PENDING,
            to=act.target,
            reason=reason,
            reviewed_by=user,
            reviewed_at=timezone.now(),
            data={"pdf_sha256": notice.pdf_sha256},
            **fields,
        )


def notice_approve(*, notice_id: int, user: User) -> Notice:
    """Approve the frozen notice. Nobody approves a notice they drafted."""
    return _review(action="approve", notice_id=notice_id, user=user)


def notice_reject(*, notice_id: int, user: User, reason: str) -> Notice:
    """Reject with a reason (required); the drafter can revise it into a new draft."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("A rejection needs a reason.")
    return _review(
        action="reject",
        notice_id=notice_id,
        user=user,
        reason=reason,
        rejection_reason=reason,
    )


def notice_revise(*, notice_id: int, user: User) -> Notice:
    """Start a new draft from a rejected notice, with the same URLs that are still open."""
    old = get_notice(notice_id, user)
    check("revise", old, user)
    with transaction.atomic():
        if Notice.objects.filter(revision_of=old).exists():
            raise Conflict(f"Notice #{old.pk} has been revised already.")
        new = Notice.objects.create(
            agency=old.agency,
            artist=old.artist,
            platform=old.platform,
            legal_route=old.legal_route,
            locale=old.locale,
            created_by=user,
            revision_of=old,
            contact=old.contact,
            ladder_rung=old.ladder_rung,
        )
        # An escalation goes on only for URLs still notified elsewhere: one withdrawn since (open
        # again) or re-uploaded is for a fresh notice, not this ladder.
        still = URLStatus.NOTIFIED if old.ladder_rung else URLStatus.OPEN
        urls = old.items.filter(url__status=still).values_list("url_id", flat=True)
        NoticeItem.objects.bulk_create([NoticeItem(notice=new, url_id=u) for u in urls])
        record_event(
            new,
            user=user,
            from_status="",
            to_status=NoticeStatus.DRAFT,
            reason=f"Revision of #{old.pk}: {old.rejection_reason}",
        )
        if old.ladder_rung:
            from takedown.escalation import steps_follow_revision

            steps_follow_revision(old, new)
    return new


def deadline_hours(notice: Notice) -> int:
    return (
        notice.platform.response_deadline_hours
        or legal.ROUTE_DEADLINE_HOURS.get(notice.legal_route)
        or settings.TAKEDOWN_DEFAULT_DEADLINE_HOURS
    )


def mark_sent(
    notice: Notice,
    *,
    user: User | None,
    sent_at: datetime,
    reason: str,
    expected: str = NoticeStatus.APPROVED,
    **fields,
) -> Notice:
    """→ sent (from approved, or from a delivery state): start the route's clock and schedule
    the URLs' first recheck. A first notice moves its open URLs to notified; an escalation
    notice moves no URL: its still-notified URLs take the new recipient's clock, and one that
    left 'notified' meanwhile (withdrawn, removed) stays where it is."""
    deadline = sent_at + timedelta(hours=deadline_hours(notice))
    notice = move(
        notice,
        user=user,
        expected=expected,
        to=NoticeStatus.SENT,
        reason=reason,
        sent_at=sent_at,
        deadline_at=deadline,
        **({"sent_by": user} if "sent_by_id" not in fields else {}),
        **fields,
    )
    listed = InfringingURL.objects.filter(notice_items__notice=notice)
    first_check = sent_at + timedelta(minutes=settings.TAKEDOWN_FIRST_CHECK_MINUTES)
    if notice.ladder_rung:
        # An escalation step: the URLs were notified before; this recipient's clock runs now.
        EscalationStep.objects.filter(
            url__in=listed, rung=notice.ladder_rung, state=EscalationStep.State.DRAFTED
        ).update(state=EscalationStep.State.SENT, notice=notice, decided_at=sent_at)
        lifecycle.urls_escalated(listed, deadline_at=deadline, first_check_at=first_check)
    else:
        lifecycle.urls_notified(listed, sent_at=sent_at, deadline_at=deadline, first_check_at=first_check)
    return notice


def notice_acknowledge(*, notice_id: int, user: User, reference: str = "") -> Notice:
    """The platform confirmed receipt (and perhaps gave a case number)."""
    notice = get_notice(notice_id, user)
    act = check("acknowledge", notice, user)
    fields = {"acknowledged_at": timezone.now()}
    if reference.strip():
        fields["reference"] = reference.strip()
    with transaction.atomic():
        return move(
            notice,
            user=user,
            expected=NoticeStatus.SENT,
            to=act.target,
            reason=reference.strip(),
            **fields,
        )


def notice_close(*, notice_id: int, user: User, outcome: str, reason: str = "") -> Notice:
    """Close a sent or acknowledged notice with its outcome: removed, partially removed, refused."""
    if outcome not in NoticeOutcome.values:
        raise Invalid(f"Unknown outcome {outcome!r}; one of: {', '.join(NoticeOutcome.values)}.")
    notice = get_notice(notice_id, user)
    act = check("close", notice, user)
    with transaction.atomic():
        return move(
            notice,
            user=user,
            expected=notice.status,
            to=act.target,
            reason=reason,
            outcome=outcome,
            closed_at=timezone.now(),
            data={"outcome": outcome},
        )


def notice_withdraw(*, notice_id: int, user: User, reason: str) -> Notice:
    """Retract a sent notice (reason required). Its still-notified URLs go back to open."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("A withdrawal needs a reason.")
    notice = get_notice(notice_id, user)
    act = check("withdraw", notice, user)
    with transaction.atomic():
        notice = move(notice, user=user, expected=notice.status, to=act.target, reason=reason)
        lifecycle.urls_withdrawn(InfringingURL.objects.filter(notice_items__notice=notice))
    return notice


def add_business_days(start: date, days: int) -> date:
    current = start
    while days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def notice_record_counter(
    *, notice_id: int, user: User, received_at: datetime, summary: str, counter_party: str = ""
) -> CounterNotice:
    """Record a counter-notice or objection against a sent notice, with the restore window its
    route fixes (DMCA: 10–14 business days); on a route that fixes none, the timeline says
    what an objection does there (legal.ROUTE_CLOCKS)."""
    if not (summary or "").strip():
        raise Invalid("Summarise the counter-notice.")
    notice = get_notice(notice_id, user)
    check("counter", notice, user)
    received_day = timezone.localtime(received_at).date()
    clock = legal.ROUTE_CLOCKS[notice.legal_route]
    window = clock.restore_business_days
    earliest = add_business_days(received_day, window[0]) if window else None
    latest = add_business_days(received_day, window[1]) if window else None
    if window:
        reason = (
            f"Counter-notice received {received_day.isoformat()}: restore possible "
            f"{earliest.isoformat()}–{latest.isoformat()}."
        )
    else:
        reason = f"Counter-notice received {received_day.isoformat()}. {clock.counter_notice}"
    with transaction.atomic():
        counter = CounterNotice.objects.create(
            notice=notice,
            received_at=received_at,
            counter_party=counter_party.strip(),
            summary=summary.strip(),
            restore_earliest=earliest,
            restore_latest=latest,
            recorded_by=user,
        )
        record_event(notice, user=user, from_status=notice.status, to_status=notice.status, reason=reason)
    return counter
