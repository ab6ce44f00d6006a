"""The check of a template before it is saved: rendered against the sample data, checked
for the elements its legal route requires, and laid out as a PDF under the bounds of
every notice PDF.
"""

from __future__ import annotations

from hashlib import sha256

from takedown import legal
from takedown.choices import Locale
from takedown.rendering.defaults import sample_context
from takedown.rendering.pdf import PdfLimitExceeded, _gettext, pdf_limits, render_pdf
from takedown.rendering.sandbox import TemplateError, render_notice
from takedown.rendering.worker import PdfLimits


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
    rendering (legal.ROUTE_REQUIREMENTS markers for `locale`), and renders the sample
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
        missing_codes = legal.missing_from_text(str(route), str(locale or Locale.EN), rendered.text, context)
        if missing_codes:
            by_code = {r.code: r for r in legal.requirements_for(str(route))}
            lines = []
            for code in missing_codes:
                requirement = by_code[code]
                phrases = requirement.markers.get(str(locale or Locale.EN)) or requirement.markers.get(
                    "en", ()
                )
                expected = "; ".join(f"“{phrase}”" for phrase in phrases)
                lines.append(
                    f"- {requirement.label}" + (f" (expected wording: {expected})" if expected else "")
                )
            raise TemplateError(
                "Body: the notice lacks elements its legal route requires:\n" + "\n".join(lines)
            )
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
