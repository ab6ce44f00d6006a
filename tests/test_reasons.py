"""Timeline reasons the services store in English read in Korean on Korean pages, values intact."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from takedown.notices.reasons import MESSAGES, localized_reason


@pytest.mark.parametrize("message, nested", MESSAGES, ids=[m[:40] for m, _ in MESSAGES])
def test_each_stored_sentence_reads_in_korean_with_its_values_as_stored(message, nested):
    names = re.findall(r"%\((\w+)\)s", message)
    values = {name: f"<{name}-7Q>" for name in names}
    stored = message % values if values else message
    with translation.override("en"):
        assert localized_reason(stored) == stored
    with translation.override("ko"):
        shown = localized_reason(stored)
    assert shown != stored and re.search("[가-힣]", shown), shown
    for value in values.values():
        assert value in shown  # an address, a code, a person's words: as stored


def test_a_sentence_inside_a_sentence_is_translated_in_turn():
    stored = (
        "Attempt 2 of 3: The mail server at 127.0.0.1:2525 refused the connection. "
        "Next try at 2026-12-01 10:00 KST."
    )
    with translation.override("ko"):
        shown = localized_reason(stored)
    assert shown == (
        "3회 중 2번째 시도: 메일 서버 127.0.0.1:2525이(가) 연결을 거부했습니다. 다음 시도 2026-12-01 10:00 KST."
    )


@pytest.mark.parametrize("own", ["Platform asked us to resend via form", "", "중복 통지라서 취소함"])
def test_a_persons_own_words_are_shown_as_written(own):
    with translation.override("ko"):
        assert localized_reason(own) == own


def test_the_sentences_the_delivery_code_writes_are_in_the_catalogue(settings):
    """Built by the delivery code itself, not from the catalogue: a sentence changed there and
    not here fails this test."""
    import smtplib
    import socket

    from takedown.notices import delivery

    settings.EMAIL_HOST, settings.EMAIL_PORT = "mail.example.test", 2525
    errors = [
        ConnectionRefusedError(),
        socket.gaierror(),
        TimeoutError(),
        smtplib.SMTPAuthenticationError(535, b"bad"),
        smtplib.SMTPRecipientsRefused({"abuse@example.test": (550, b"no")}),
        smtplib.SMTPSenderRefused(553, b"no", "takedown@example.test"),
        smtplib.SMTPDataError(554, b"rejected"),
        smtplib.SMTPServerDisconnected(),
        RuntimeError("boom"),
    ]
    written = [delivery.describe_smtp_error(exc) for exc in errors]
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    written.append(delivery.email_not_configured())
    with translation.override("ko"):
        for sentence in written:
            shown = localized_reason(sentence)
            assert shown != sentence and re.search("[가-힣]", shown), sentence
