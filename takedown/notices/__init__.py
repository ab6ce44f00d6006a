"""Notices: drafting, the review workflow, delivery and templates.

- `states`: the workflow table (action → from-states, to-state, permission, four-eyes), the
  one conditional move every transition goes through, and the notice's timeline events;
- `drafting`: open URLs grouped into drafts, a draft's context and its pre-send checks;
- `workflow`: submit, review, revise, and what follows sending (acknowledge, close, withdraw,
  counter-notices, the route's clock);
- `delivery`: one class per channel (email, web form) and the email delivery task;
- `templates`: which template a notice uses, and template versions.

The public services are re-exported here: `from takedown import notices` then
`notices.notice_submit(notice_id=…, user=…)`. Each raises takedown.errors' exceptions.
"""

from takedown.errors import Conflict, Invalid, NotAllowed, PresendFailed
from takedown.notices.delivery import (
    CHANNELS,
    delivery_sweep,
    email_not_configured,
    enqueue_delivery,
    notice_cancel,
    notice_confirm_sent,
    notice_deliver_email,
    notice_resend,
    notice_retry,
    notice_send,
)
from takedown.notices.drafting import (
    default_locale,
    notice_change_language,
    notice_context,
    notice_create,
    notice_reference,
    notice_remove_items,
    notices_prepare,
    presend_problems,
    render_notice_now,
)
from takedown.notices.states import (
    ACTIVE_NOTICE_STATES,
    DELIVERY_STATES,
    SENT_STATES,
    WORKFLOW,
    available,
    may_review,
    notice_contributors,
    verbs_needing,
    who_may,
)
from takedown.notices.templates import (
    choose_template,
    notice_template,
    template_save,
    templates_load_defaults,
)
from takedown.notices.workflow import (
    add_business_days,
    deadline_hours,
    mark_sent,
    notice_acknowledge,
    notice_approve,
    notice_close,
    notice_record_counter,
    notice_reject,
    notice_revise,
    notice_submit,
    notice_withdraw,
)

__all__ = [
    "ACTIVE_NOTICE_STATES",
    "CHANNELS",
    "DELIVERY_STATES",
    "SENT_STATES",
    "SERVICES",
    "WORKFLOW",
    "Conflict",
    "Invalid",
    "NotAllowed",
    "PresendFailed",
    "add_business_days",
    "available",
    "choose_template",
    "deadline_hours",
    "default_locale",
    "delivery_sweep",
    "email_not_configured",
    "enqueue_delivery",
    "mark_sent",
    "may_review",
    "notice_acknowledge",
    "notice_approve",
    "notice_cancel",
    "notice_change_language",
    "notice_close",
    "notice_confirm_sent",
    "notice_context",
    "notice_contributors",
    "notice_create",
    "notice_deliver_email",
    "notice_record_counter",
    "notice_reference",
    "notice_reject",
    "notice_remove_items",
    "notice_resend",
    "notice_retry",
    "notice_revise",
    "notice_send",
    "notice_submit",
    "notice_template",
    "notice_withdraw",
    "notices_prepare",
    "perform",
    "presend_problems",
    "render_notice_now",
    "template_save",
    "templates_load_defaults",
    "verbs_needing",
    "who_may",
]

# What each action of the workflow table runs; every one takes notice_id, user and the
# action's `fields` by name ("prepare" and "change_language" have their own callers).
SERVICES = {
    "submit": notice_submit,
    "approve": notice_approve,
    "reject": notice_reject,
    "send": notice_send,
    "retry": notice_retry,
    "confirm_sent": notice_confirm_sent,
    "resend": notice_resend,
    "cancel": notice_cancel,
    "revise": notice_revise,
    "acknowledge": notice_acknowledge,
    "close": notice_close,
    "withdraw": notice_withdraw,
    "counter": notice_record_counter,
}


def perform(action: str, *, notice_id: int, user, **given):
    """Run a workflow action by name with the fields it takes (others are ignored)."""
    service = SERVICES.get(action)
    if service is None:
        raise Invalid(f"{action!r} is not a notice action.")
    fields = {name: given[name] for name in WORKFLOW[action].fields if name in given}
    return service(notice_id=notice_id, user=user, **fields)
