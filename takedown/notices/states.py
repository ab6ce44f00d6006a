"""The notice workflow, declared once: which action moves a notice from which states to which,
who may take it, and the four-eyes rule.

    (new)             --prepare / create-->  draft
    draft             --remove_items, change_language-->  draft
    draft             --submit-->            pending
    pending           --approve-->           approved      (four eyes: not by who shaped it)
    pending           --reject-->            rejected      (four eyes; a reason is required)
    rejected          --revise-->            a new draft with the URLs still open
    approved          --send-->              sent          (web form: the platform's reference)
    approved          --send-->              sending       (email: queued; one Message-ID for good)
    sending           ..delivered..>         sent          (the mail server accepted it)
    sending           ..failed..>            delivery_failed  (nothing left; retried on a schedule)
    sending           ..in doubt..>          delivery_unknown (it may have left: a person decides)
    delivery_failed   --retry-->             sending
    delivery_unknown  --confirm_sent-->      sent          (the platform has it)
    delivery_unknown  --resend-->            sending       (same Message-ID: the platform can tell a copy)
    sent              --acknowledge-->       acknowledged
    sent|acknowledged --close-->             closed        (with an outcome)
    sent|acknowledged --withdraw-->          withdrawn     (a reason is required)
    approved|delivery_failed|delivery_unknown --cancel--> cancelled (a reason; its URLs are free again)

A counter-notice can be recorded on a sent, acknowledged or closed notice; it changes no state.
Dotted moves are the system's (`SYSTEM_MOVES`), not a person's.

Everything else reads this table: the services check against it (`check`), the admin draws its
buttons and dispatches from it, the API derives its role permissions, error messages and
schema descriptions from it. Every move goes through `move` (one conditional UPDATE on the
expected old state, and its event in the same transaction), so two people acting at once get
one success and one `Conflict`, never a silent overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from takedown.choices import NoticeStatus
from takedown.errors import Conflict, NotAllowed
from takedown.models import Notice, NoticeEvent, User
from takedown.roles import role_has

# A notice in one of these states holds its URLs: they are not drafted into another one.
ACTIVE_NOTICE_STATES = (
    NoticeStatus.DRAFT,
    NoticeStatus.PENDING,
    NoticeStatus.APPROVED,
    NoticeStatus.SENDING,
    NoticeStatus.DELIVERY_FAILED,
    NoticeStatus.DELIVERY_UNKNOWN,
)
# A notice on its way or sent and not withdrawn: its open URLs are no longer waiting to be
# put into one (the home page's "to triage" and the URL list's filter of the same name).
IN_FLIGHT_STATES = (*ACTIVE_NOTICE_STATES, NoticeStatus.SENT, NoticeStatus.ACKNOWLEDGED)
# Email delivery in progress or in doubt: nothing is offered that would send it again.
DELIVERY_STATES = (NoticeStatus.SENDING, NoticeStatus.DELIVERY_FAILED, NoticeStatus.DELIVERY_UNKNOWN)
SENT_STATES = (NoticeStatus.SENT, NoticeStatus.ACKNOWLEDGED, NoticeStatus.CLOSED)

SENDING, FAILED, UNKNOWN = DELIVERY_STATES
D, P, A, S, K, C, R, W = (
    NoticeStatus.DRAFT,
    NoticeStatus.PENDING,
    NoticeStatus.APPROVED,
    NoticeStatus.SENT,
    NoticeStatus.ACKNOWLEDGED,
    NoticeStatus.CLOSED,
    NoticeStatus.REJECTED,
    NoticeStatus.WITHDRAWN,
)


@dataclass(frozen=True)
class Action:
    """One thing a person can do to a notice."""

    name: str
    verb: str  # what the role-denied message says the caller may not do: "approve"
    sources: tuple[str, ...]  # the states it starts from; () creates a notice
    target: str  # the state it ends in ("" = unchanged; revise starts a new draft)
    permission: str  # the role permission it needs (takedown.roles)
    denied: str  # said to a role without the permission
    only: str  # said when the notice is in another state
    four_eyes: bool = False  # the people who shaped the notice may not take it
    shapes: bool = False  # taking it shapes what is sent (its author becomes a contributor)
    fields: tuple[str, ...] = ()  # what the person supplies (admin form fields, API body)
    button: Promise | str = ""  # the admin's button; "" = not a workflow button
    summary: str = ""  # one line for the API schema and the docs


_REVIEWER = "Only a legal reviewer can do this."

ACTIONS: tuple[Action, ...] = (
    Action(
        "prepare",
        "draft",
        (),
        D,
        "add_notice",
        "Your role cannot draft notices.",
        "",
        shapes=True,
        summary="Draft notices from open URLs",
    ),
    Action(
        "remove_items",
        "change",
        (D,),
        D,
        "delete_noticeitem",
        "Your role cannot change notices.",
        "its items are frozen.",
        shapes=True,
    ),
    Action(
        "change_language",
        "change",
        (D,),
        D,
        "change_notice",
        "Your role cannot change notices.",
        "only a draft's language can change.",
        shapes=True,
        fields=("locale",),
    ),
    Action(
        "submit",
        "submit",
        (D,),
        P,
        "change_notice",
        "Your role cannot submit notices.",
        "only a draft can be submitted.",
        shapes=True,
        button=_("Submit for legal review"),
        summary="Submit a draft for legal review",
    ),
    Action(
        "approve",
        "approve",
        (P,),
        A,
        "review_notice",
        _REVIEWER,
        "only a pending notice can be approved.",
        four_eyes=True,
        button=_("Approve"),
        summary="Approve a pending notice",
    ),
    Action(
        "reject",
        "reject",
        (P,),
        R,
        "review_notice",
        _REVIEWER,
        "only a pending notice can be rejected.",
        four_eyes=True,
        fields=("reason",),
        button=_("Reject"),
        summary="Reject a pending notice with a reason",
    ),
    Action(
        "send",
        "send",
        (A,),
        S,
        "review_notice",
        _REVIEWER,
        "only an approved notice can be sent.",
        fields=("reference",),
        button=_("Send"),
        summary="Send an approved notice",
    ),
    Action(
        "retry",
        "retry",
        (FAILED,),
        SENDING,
        "review_notice",
        _REVIEWER,
        "only a notice whose delivery failed can be retried.",
        button=_("Retry delivery now"),
    ),
    Action(
        "confirm_sent",
        "confirm as sent",
        (UNKNOWN,),
        S,
        "review_notice",
        _REVIEWER,
        "only a notice whose delivery is unknown can be confirmed as sent.",
        fields=("reason",),
        button=_("It was delivered: record it as sent"),
    ),
    Action(
        "resend",
        "resend",
        (UNKNOWN,),
        SENDING,
        "review_notice",
        _REVIEWER,
        "only a notice whose delivery is unknown can be sent again.",
        fields=("reason",),
        button=_("It was not delivered: send again (same Message-ID)"),
    ),
    Action(
        "cancel",
        "cancel",
        (A, FAILED, UNKNOWN),
        NoticeStatus.CANCELLED,
        "review_notice",
        _REVIEWER,
        "only a notice that has not been sent can be cancelled.",
        fields=("reason",),
        button=_("Cancel: it will not be sent"),
    ),
    Action(
        "revise",
        "revise",
        (R,),
        "",
        "add_notice",
        "Your role cannot draft notices.",
        "only a rejected notice can be revised.",
        shapes=True,
        button=_("Revise into a new draft"),
    ),
    Action(
        "acknowledge",
        "acknowledge",
        (S,),
        K,
        "review_notice",
        _REVIEWER,
        "only a sent notice can be acknowledged.",
        fields=("reference",),
        button=_("Record acknowledgement"),
    ),
    Action(
        "close",
        "close",
        (S, K),
        C,
        "review_notice",
        _REVIEWER,
        "only a sent notice can be closed.",
        fields=("outcome", "reason"),
        button=_("Close with outcome"),
    ),
    Action(
        "withdraw",
        "withdraw",
        (S, K),
        W,
        "review_notice",
        _REVIEWER,
        "only a sent notice can be withdrawn.",
        fields=("reason",),
        button=_("Withdraw (retract)"),
    ),
    Action(
        "counter",
        "record counter-notices on",
        SENT_STATES,
        "",
        "review_notice",
        _REVIEWER,
        "counter-notices are recorded on sent notices.",
        fields=("received_at", "summary", "counter_party"),
        button=_("Record a counter-notice"),
    ),
)

WORKFLOW: dict[str, Action] = {a.name: a for a in ACTIONS}

# What the system does by itself, not a person: (from, to) -> when.
SYSTEM_MOVES: dict[tuple[str, str], str] = {
    (A, SENDING): "send, email channel: delivery is queued",
    (SENDING, S): "the mail server accepted the message",
    (SENDING, FAILED): "the mail server refused it, or could not be reached: nothing left",
    (
        SENDING,
        UNKNOWN,
    ): "the message may have left (no answer after it was handed over, or a worker stopped mid-send)",
    (FAILED, SENDING): "the next attempt is due",
}
BUTTONS: tuple[Action, ...] = tuple(a for a in ACTIONS if a.button)


# -- the rules ---------------------------------------------------------------------------------


def notice_contributors(notice: Notice) -> set[int]:
    """Everyone who shaped what this notice sends: who drafted it, added or removed its items,
    changed its language or submitted it, on this notice and the rejected ones it revises.

    Read from the audit events (every action that `shapes` ends in draft or pending), so no
    path that writes an event can bypass it.
    """
    ids = {notice.created_by_id, notice.submitted_by_id}
    current: Notice | None = notice
    seen: set[int] = set()
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        ids.update(
            NoticeEvent.objects.filter(notice=current, to_status__in=[D, P]).values_list(
                "actor_id", flat=True
            )
        )
        ids.add(current.created_by_id)
        current = current.revision_of
    ids.discard(None)
    return ids


def may_review(notice: Notice, user: User) -> bool:
    """The four-eyes rule in one place: a legal reviewer who did not shape the notice."""
    return role_has(user, WORKFLOW["approve"].permission) and user.pk not in notice_contributors(notice)


def refusal(action: Action | str, notice: Notice | None, user: User) -> Exception | None:
    """Why `user` may not take `action` on `notice` now (NotAllowed or Conflict), or None.

    Checked in this order: the role, the four-eyes rule, the notice's state. The state is
    checked again by `move`'s conditional UPDATE, so a race still ends in one Conflict.
    """
    act = WORKFLOW[action] if isinstance(action, str) else action
    if not role_has(user, act.permission):
        return NotAllowed(act.denied)
    if notice is None:
        return None
    if act.four_eyes and user.pk in notice_contributors(notice):
        return NotAllowed(
            "You drafted, submitted or changed the URLs of this notice; "
            f"another legal reviewer must {act.verb} it."
        )
    if act.sources and notice.status not in act.sources:
        expected = " or ".join(str(s) for s in act.sources)
        return Conflict(f"Notice #{notice.pk} is {notice.status}, not {expected}: {act.only}")
    return None


def check(action: Action | str, notice: Notice | None, user: User) -> Action:
    """Raise what `refusal` finds; return the action, for its target state."""
    problem = refusal(action, notice, user)
    if problem is not None:
        raise problem
    return WORKFLOW[action] if isinstance(action, str) else action


def allowed(action: Action | str, notice: Notice, user: User) -> bool:
    return refusal(action, notice, user) is None


def available(notice: Notice, user: User) -> list[Action]:
    """The workflow buttons this user may press on this notice now."""
    return [a for a in BUTTONS if allowed(a, notice, user)]


def who_may(action: Action | str) -> str:
    """The roles that may take an action, for messages and the API's descriptions."""
    from takedown.roles import roles_with

    act = WORKFLOW[action] if isinstance(action, str) else action
    return roles_with(act.permission)


def verbs_needing(permission: str, names: tuple[str, ...] | None = None) -> str:
    """'approve, reject or send': what a permission lets its holder do to notices."""
    verbs = [a.verb for a in ACTIONS if a.permission == permission and (names is None or a.name in names)]
    if not verbs:
        return ""
    return verbs[0] if len(verbs) == 1 else f"{', '.join(verbs[:-1])} or {verbs[-1]}"


# -- moving a notice ---------------------------------------------------------------------------


def get_notice(notice_id: int, user: User) -> Notice:
    """A notice of the user's agency (another agency's is DoesNotExist, as if it did not exist)."""
    return Notice.objects.visible_to(user).select_related("agency", "artist", "platform").get(pk=notice_id)


def record_event(
    notice: Notice,
    *,
    user: User | None,
    from_status: str,
    to_status: str,
    reason: str = "",
    data: dict | None = None,
) -> NoticeEvent:
    """Write one line of the notice's timeline (the caller holds the transaction), and its
    link in the agency's hash chain."""
    from takedown import chain

    event = NoticeEvent.objects.create(
        notice=notice,
        actor=user,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data or {},
    )
    pdf_sha256 = ""
    if to_status == "pending":
        pdf_sha256 = Notice.objects.filter(pk=notice.pk).values_list("pdf_sha256", flat=True).first() or ""
    chain.chain_notice_event(event, notice.agency_id, pdf_sha256)
    return event


def move(
    notice: Notice,
    *,
    user: User | None,
    expected: str,
    to: str,
    reason: str = "",
    data: dict | None = None,
    **fields,
) -> Notice:
    """The one conditional UPDATE every transition goes through, and its event."""
    moved = Notice.objects.filter(pk=notice.pk, status=expected).update(status=to, **fields)
    if not moved:
        current = Notice.objects.filter(pk=notice.pk).values_list("status", flat=True).first()
        raise Conflict(f"Notice #{notice.pk} is {current}, not {expected}: someone else acted on it first.")
    record_event(notice, user=user, from_status=expected, to_status=to, reason=reason, data=data)
    notice.refresh_from_db()
    if notice.ladder_rung:
        # An escalation notice rejected or cancelled: its ladder steps say so, in this same
        # transaction (takedown.escalation).
        from takedown.escalation import steps_follow_notice

        steps_follow_notice(notice, to, reason)
    return notice
