"""A rendered notice as a PDF: the body inside the print layout, laid out by WeasyPrint.

The body sits inside a trusted, file-based print layout (templates/notices/), rendered
to PDF by WeasyPrint with a URL fetcher that serves only files inside that folder. The
HTML and CSS of the body can still make WeasyPrint run for minutes or fill gigabytes,
so the PDF is laid out in a worker process under a wall clock, an address-space limit
and a page cap (takedown/rendering/worker.py), for every PDF: submission, previews and
the sample PDF of validate_template.

Settings are read only for those bounds (pdf_limits(), with defaults when Django is not
configured).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from hashlib import sha256
from typing import Any

import jinja2
from markupsafe import Markup

from takedown.rendering import worker
from takedown.rendering.sandbox import RenderedNotice, TemplateError, _long_date, _plain
from takedown.rendering.worker import LAYOUT_DIR, PdfLimits

_LAYOUT_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(LAYOUT_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


class PdfLimitExceeded(TemplateError):
    """A PDF render went past a bound (time, memory or pages); `bound` says which.

    A TemplateError, so every caller that reports a template problem (admin, API,
    template save) reports this one too, with a message that names the bound.
    """

    def __init__(self, message: str, *, bound: str) -> None:
        super().__init__(message)
        self.bound = bound


def pdf_limits() -> PdfLimits:
    """The bounds from settings (TAKEDOWN_PDF_*), or the defaults outside Django."""
    defaults = PdfLimits()
    if not _django_configured():
        return defaults
    from django.conf import settings

    return PdfLimits(
        timeout_seconds=float(getattr(settings, "TAKEDOWN_PDF_TIMEOUT_SECONDS", defaults.timeout_seconds)),
        memory_mb=int(getattr(settings, "TAKEDOWN_PDF_MEMORY_MB", defaults.memory_mb)),
        max_pages=int(getattr(settings, "TAKEDOWN_PDF_MAX_PAGES", defaults.max_pages)),
        workers=int(getattr(settings, "TAKEDOWN_PDF_WORKERS", defaults.workers)),
    )


def _django_configured() -> bool:
    # Settings are read lazily: configured once touched, or named by the environment.
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - Django is a dependency
        return False
    return settings.configured or bool(os.environ.get("DJANGO_SETTINGS_MODULE"))


def _gettext(message: str) -> str:
    # The bound messages reach users (admin, API); outside Django they stay English.
    if not _django_configured():
        return message
    from django.utils.translation import gettext

    return gettext(message)


def _bound_message(bound: str, limits: PdfLimits) -> str:
    if bound == "time":
        return _gettext("the PDF took longer than %(seconds)s s to render") % {
            "seconds": f"{limits.timeout_seconds:g}"
        }
    if bound == "pages":
        return _gettext("the PDF would have more than %(pages)s pages") % {"pages": f"{limits.max_pages:,}"}
    size = f"{limits.memory_mb / 1024:g} GB" if limits.memory_mb >= 1024 else f"{limits.memory_mb} MB"
    return _gettext("the PDF needed more than %(size)s of memory to render") % {"size": size}


_LABELS = {
    "en": {
        "date": "Date",
        "reference": "Reference",
        "page": "Page",
        "recipient": "Recipient",
        "address_from": "address found through",
    },
    "ko": {
        "date": "일자",
        "reference": "문서번호",
        "page": "쪽",
        "recipient": "수신처",
        "address_from": "주소 출처",
    },
}


def layout_html(
    rendered: RenderedNotice,
    *,
    title: str,
    author: str,
    lang: str,
    context: Mapping[str, Any] | None = None,
) -> str:
    """The full HTML document: the rendered body inside the trusted layout."""
    data = _plain(context or {})
    agency = data.get("agency") or {}
    notice = data.get("notice") or {}
    notice_date = str(notice.get("date") or "")
    created = notice_date if re.fullmatch(r"\d{4}-\d{2}-\d{2}", notice_date) else ""
    return _LAYOUT_ENV.get_template("layout.html").render(
        title=title,
        author=author,
        lang=lang,
        labels=_LABELS.get(lang[:2], _LABELS["en"]),
        agency=agency,
        reference=str(notice.get("reference") or ""),
        date=_long_date(notice_date, lang[:2]) if notice_date else "",
        created=created,
        body=Markup(rendered.html),
        # An unlisted host's notice goes to a discovered address: the letter says whose it is
        # and where it was found, whatever the (legal-written) template prints.
        recipient=data.get("recipient") or {},
    )


def render_pdf(
    rendered: RenderedNotice,
    *,
    title: str,
    author: str,
    lang: str,
    context: Mapping[str, Any] | None = None,
    limits: PdfLimits | None = None,
) -> bytes:
    """The notice as PDF bytes: the body inside the print layout, via WeasyPrint.

    `context` (the notice context) fills the letterhead: agency name and address,
    notice reference and date. The PDF's creation date is the notice date, and nothing
    else varies between runs, so the same input gives the same bytes (and SHA-256).
    Resources are fetched only from the layout folder; anything else is skipped with a
    WeasyPrint error in the log (see pdf_warnings()).

    The layout runs in a worker process (takedown.rendering.worker) under `limits` (default:
    pdf_limits()). Raises PdfLimitExceeded naming the bound that was hit, or
    TemplateError if WeasyPrint fails on the document.
    """
    limits = limits or pdf_limits()
    document = layout_html(rendered, title=title, author=author, lang=lang, context=context)
    try:
        pdf, warnings = worker.pool().render(document, limits)
    except worker.PdfBoundExceeded as exc:
        raise PdfLimitExceeded(_bound_message(exc.bound, limits), bound=exc.bound) from None
    except worker.PdfWorkerError as exc:
        # WeasyPrint failed on this document (not on the server): the template's fault.
        raise TemplateError(f"{_gettext('the PDF could not be rendered')}: {exc}") from None
    # Replayed here, in the calling thread, for pdf_warnings() and the server's log.
    logger = logging.getLogger("weasyprint")
    for level, message in warnings:
        logger.log(level, "%s", message)
    return pdf


class _ListHandler(logging.Handler):
    def __init__(self, thread: int) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = thread
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@contextmanager
def pdf_warnings() -> Iterator[list[str]]:
    """Collect WeasyPrint's warnings and errors raised in this thread.

    A glyph missing from every font ("tofu") is logged as
    '.notdef glyph rendered for Unicode string unsupported by fonts: ...' - the text
    still extracts correctly, so this log is the only way to notice it. Refused
    resources are logged as errors too.
    """
    logger = logging.getLogger("weasyprint")
    handler = _ListHandler(threading.get_ident())
    previous_level = logger.level
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


def missing_glyphs(warnings: list[str]) -> list[str]:
    """The '.notdef' (missing glyph) messages among pdf_warnings()."""
    return [message for message in warnings if ".notdef" in message]


def sha256_hex(data: bytes) -> str:
    return sha256(data).hexdigest()
