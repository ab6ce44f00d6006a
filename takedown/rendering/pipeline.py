"""The whole render of a notice, and the check of a template before it is saved.

Both go the same way: the template rendered in the sandbox (subject, HTML body and its
text version), the text checked for the elements the legal route requires, then the
PDF laid out under its bounds. Pure: plain data in, text and bytes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from takedown import legal
from takedown.choices import Locale
from takedown.rendering.defaults import sample_context
from takedown.rendering.pdf import PdfLimitExceeded, _gettext, pdf_limits, render_pdf, sha256_hex
from takedown.rendering.sandbox import RenderedNotice, TemplateError, render_notice
from takedown.rendering.worker import PdfLimits


class MissingElements(TemplateError):
    """The rendered notice lacks elements its legal route requires.

    `missing` holds their codes (legal.ROUTE_REQUIREMENTS) for `route`; the message lists
    each one with the wording expected in `locale`.
    """

    def __init__(self, route: str, locale: str, missing: list[str]) -> None:
        self.route = route
        self.locale = locale
        self.missing = list(missing)
        by_code = {requirement.code: requirement for requirement in legal.requirements_for(route)}
        lines = []
        for code in self.missing:
            requirement = by_code[code]
            phrases = requirement.markers.get(locale) or requirement.markers.get("en", ())
            expected = "; ".join(f"“{phrase}”" for phrase in phrases)
            lines.append(f"- {requirement.label}" + (f" (expected wording: {expected})" if expected else ""))
        super().__init__("Body: the notice lacks elements its legal route requires:\n" + "\n".join(lines))


class UnfoundedStatements(TemplateError):
    """The rendered notice says something no item supports: an offence for a category none of
    its items has, a copyright without a linked work, an evidence hash without a conclusive
    check (legal.RESERVED). `statements` holds one sentence each."""

    def __init__(self, statements: list[str]) -> None:
        self.statements = list(statements)
        super().__init__(
            "Body: the notice states what no item supports:\n" + "\n".join(f"- {s}" for s in self.statements)
        )


def _require_elements(route: str, locale: str, text: str, context: Mapping[str, Any]) -> None:
    missing = legal.missing_from_text(route, locale, text, context)
    if missing:
        raise MissingElements(route, locale, missing)
    unfounded = legal.unfounded_statements(locale, text, context)
    if unfounded:
        raise UnfoundedStatements(unfounded)


@dataclass(frozen=True)
class NoticeRender:
    """A notice as it is frozen at submission: the rendering and its PDF."""

    rendered: RenderedNotice
    pdf: bytes
    pdf_sha256: str


def notice_render(
    *,
    subject: str,
    body: str,
    context: Mapping[str, Any],
    author: str,
    lang: str,
    preview: bool = False,
    limits: PdfLimits | None = None,
) -> NoticeRender:
    """Render a notice from its template (`subject`, `body`) and plain-data `context`.

    The text is checked for every element the notice's legal route requires (the route
    is `context["route"]["code"]`, the locale `context["notice"]["locale"]`) and for
    statements no item supports (legal.unfounded_statements), then the
    PDF is laid out with the rendered subject as its title, `author` (the agency) and
    `lang`, under `limits` (default: pdf_limits()). The same input gives the same bytes.

    A `preview` is not checked for required elements: a draft is shown as it would
    render, elements missing or not.

    Raises MissingElements or UnfoundedStatements (TemplateErrors) naming what is missing or
    unfounded, PdfLimitExceeded
    naming the bound hit, TemplateError for any other template problem, TypeError if the
    context holds anything but plain data.
    """
    rendered = render_notice(subject, body, context)
    if not preview:
        _require_elements(
            str(context["route"]["code"]), str(context["notice"]["locale"]), rendered.text, context
        )
    pdf = render_pdf(
        rendered, title=rendered.subject, author=author, lang=lang, context=context, limits=limits
    )
    return NoticeRender(rendered=rendered, pdf=pdf, pdf_sha256=sha256_hex(pdf))


def validate_template(
    subject: str,
    body: str,
    *,
    route: str | None = None,
    locale: str | None = None,
    limits: PdfLimits | None = None,
) -> None:
    """Check a template before it is saved; raise TemplateError saying what is wrong.

    Checks the syntax, renders against SAMPLE_CONTEXT (undefined names are errors),
    when a route is given, that every element the route requires appears in the
    rendering (legal.ROUTE_REQUIREMENTS markers for `locale`) and that it states nothing
    the sample's items do not support (the sample holds the items the route may carry), and
    renders the sample
    PDF under `limits` (default: pdf_limits()); PdfLimitExceeded names the bound hit.
    """
    key = sha256(repr((subject, body, route, locale, limits or pdf_limits())).encode("utf-8")).hexdigest()
    if key in _VALIDATED:
        # The admin's form check and template_save validate the same source in one request:
        # the sample PDF (up to the time bound) is rendered once, not twice.
        return
    context = sample_context(locale, route)
    rendered = render_notice(subject, body, context)
    if not rendered.subject:
        raise TemplateError("Subject: the subject is empty")
    if route:
        _require_elements(str(route), str(locale or Locale.EN), rendered.text, context)
    # The sample PDF, under the bounds of every notice PDF: a layout that runs for
    # minutes, fills hundreds of pages or gigabytes is refused here, not at submission.
    try:
        render_pdf(
            rendered,
            title=rendered.subject,
            author=str(context["agency"]["name"]),
            lang=str(locale or Locale.EN),
            context=context,
            limits=limits,
        )
    except PdfLimitExceeded as exc:
        raise PdfLimitExceeded(
            _gettext("Body: %(problem)s (with the sample data)") % {"problem": exc}, bound=exc.bound
        ) from None
    except TemplateError as exc:
        raise TemplateError(f"Body: {exc}") from None
    _VALIDATED[key] = None
    while len(_VALIDATED) > 64:
        _VALIDATED.pop(next(iter(_VALIDATED)))


# Sources that passed validate_template lately (the result depends on nothing else: the sample
# context is fixed), so that checking the same source twice in a row costs nothing.
_VALIDATED: dict[str, None] = {}
