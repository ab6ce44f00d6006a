"""Timeline reasons in the reader's language.

The services store a notice event's reason (and a delivery error) as an English sentence: it is
part of the record, read by the law firm and kept as written. A Korean page shows it in Korean:
each sentence the services write has a message here whose English text is the stored sentence
with its values as %(name)s; a stored reason that matches one is shown through the catalogue,
with the values as stored (a mail server's own words, a person's reason, an address). Values
that are themselves service sentences (the error inside "Attempt 2 of 5: ...") are translated
in turn. A reason no message matches (a person's own words) is shown as written.
"""

from __future__ import annotations

import re
from functools import cache

from django.utils.translation import get_language, gettext, gettext_noop

# (message, the values that are service sentences themselves). More specific messages first.
MESSAGES: list[tuple[str, tuple[str, ...]]] = [
    (gettext_noop("Queued for email to %(to)s."), ()),
    (gettext_noop("Retry queued for email to %(to)s."), ()),
    (gettext_noop("Emailed to %(to)s; the mail server accepted it (Message-ID %(id)s)."), ()),
    (gettext_noop("Submitted on %(name)s's web form, reference %(ref)s."), ()),
    (gettext_noop("Recorded as delivered (the attempt began %(at)s): %(why)s"), ()),
    (gettext_noop("Sent again with the same Message-ID: %(why)s"), ()),
    (gettext_noop("Attempt %(n)s of %(max)s: %(error)s Next try at %(at)s."), ("error",)),
    (
        gettext_noop(
            "Attempt %(n)s of %(max)s: %(error)s No more automatic tries: mend the record, then retry, "
            "or cancel the notice."
        ),
        ("error",),
    ),
    (
        gettext_noop(
            "Attempt %(n)s of %(max)s: %(error)s No more automatic tries: retry when the mail server is back."
        ),
        ("error",),
    ),
    (gettext_noop("Attempt %(n)s of %(max)s."), ()),
    (
        gettext_noop(
            "The mail server may have accepted the message at %(at)s: %(what)s Check with the platform, "
            "then record it as sent or send it again (same Message-ID)."
        ),
        ("what",),
    ),
    (
        gettext_noop(
            "A worker started delivering at %(at)s and stopped without recording the result: the mail "
            "server may have accepted the message. Check with the platform, then record it as sent or "
            "send it again (same Message-ID)."
        ),
        (),
    ),
    (gettext_noop("The mail server at %(server)s refused the connection."), ()),
    (gettext_noop("The mail server's name %(host)s could not be resolved."), ()),
    (gettext_noop("The mail server at %(server)s did not answer in time."), ()),
    (gettext_noop("The mail server at %(server)s refused our login (%(code)s)."), ()),
    (gettext_noop("The mail server at %(server)s refused the recipient %(who)s."), ()),
    (gettext_noop("The mail server at %(server)s refused the sender %(who)s (%(code)s)."), ()),
    (gettext_noop("The mail server at %(server)s answered %(code)s: %(text)s."), ()),
    (gettext_noop("The mail server at %(server)s closed the connection."), ()),
    (gettext_noop("Sending through %(server)s failed: %(error)s."), ()),
    (gettext_noop("the email backend raised %(error)s."), ()),
    (gettext_noop("the connection broke while the message was being handed over (%(error)s)."), ()),
    (gettext_noop("no answer came after the message was handed over (%(error)s)."), ()),
    (gettext_noop("Not sent: %(problems)s"), ("problems",)),
    (gettext_noop("An authorization document approved with the notice (#%(id)s) is gone."), ()),
    (gettext_noop("The authorization document #%(id)s changed since the notice was approved."), ()),
    (
        gettext_noop(
            "Email delivery is not configured: this installation %(what)s (EMAIL_BACKEND), so nothing "
            "would reach the platform. Set EMAIL_HOST (see the README, Configuration) to send notices by email."
        ),
        (),
    ),
    (gettext_noop("Counter-notice received %(day)s: restore possible %(earliest)s–%(latest)s."), ()),
    (gettext_noop("Counter-notice received %(day)s. %(what)s"), ()),
    (gettext_noop("%(why)s (The email may have reached the platform before the cancellation.)"), ()),
    (gettext_noop("Escalation step skipped: %(why)s"), ()),
    (gettext_noop("Escalation: %(rung)s"), ()),
    (gettext_noop("Revision of #%(id)s: %(why)s"), ()),
    (gettext_noop("Language changed: %(old)s → %(new)s"), ()),
    (gettext_noop("URLs added"), ()),
    (gettext_noop("URLs removed"), ()),
]

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def _patterns() -> list[tuple[re.Pattern, str, tuple[str, ...]]]:
    compiled = []
    for message, nested in MESSAGES:
        parts, last = [], 0
        for m in _PLACEHOLDER.finditer(message):
            parts.append(re.escape(message[last : m.start()]))
            parts.append(f"(?P<{m.group(1)}>.+?)")
            last = m.end()
        parts.append(re.escape(message[last:]))
        compiled.append((re.compile("".join(parts), re.DOTALL), message, nested))
    return compiled


def localized_reason(text: str, *, depth: int = 0) -> str:
    """`text` (a stored reason) in the active language; as stored when no message matches."""
    if not text or (get_language() or "en").startswith("en") or depth > 2:
        return text
    for pattern, message, nested in _patterns():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        values = {
            key: localized_reason(value, depth=depth + 1) if key in nested else value
            for key, value in match.groupdict().items()
        }
        translated = gettext(message)
        try:
            return translated % values if values else translated
        except (KeyError, ValueError, TypeError):  # a catalogue entry that lost a value
            return text
    return text
