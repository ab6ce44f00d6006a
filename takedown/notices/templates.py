"""Notice templates: which one a notice uses, and saving new versions of them.

A template is never edited in place: saving makes the next version, and notices keep the
exact version they were rendered with. An agency's own copies win over the shipped defaults.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q

from takedown import rendering
from takedown.choices import LegalRoute
from takedown.errors import NotAllowed
from takedown.models import Notice, NoticeTemplate, User
from takedown.roles import role_has


def choose_template(
    *, agency_id: int | None, route: str, locale: str, platform_id: int | None
) -> NoticeTemplate | None:
    """The active template for the agency, route and locale.

    The agency's own copies win over the shipped defaults (its legal team chose that wording);
    within each, the platform's own wins over the generic one. Another agency's templates are
    never candidates.
    """
    candidates = (
        NoticeTemplate.objects.usable_by(agency_id)
        .filter(legal_route=route, locale=locale, is_active=True)
        .filter(Q(platform_id=platform_id) | Q(platform__isnull=True))
        .order_by(F("agency_id").asc(nulls_last=True), F("platform_id").asc(nulls_last=True), "-version")
    )
    return candidates.first()


def notice_template(notice: Notice) -> NoticeTemplate | None:
    return choose_template(
        agency_id=notice.agency_id,
        route=notice.legal_route,
        locale=notice.locale,
        platform_id=notice.platform_id,
    )


def template_save(
    *,
    user: User | None,
    base: NoticeTemplate | None,
    name: str,
    legal_route: str,
    locale: str,
    platform_id: int | None,
    subject: str,
    body: str,
) -> NoticeTemplate:
    """Validate and store a template as a new version of the user's agency; the agency's
    previous active version for the same route, locale and platform is retired.

    Editing a shipped default makes the agency's own copy (copy-on-write): the default stays
    as it is for every other agency. Only a superuser (the installation's operator, no agency)
    changes the shared defaults. Notices keep the exact version they were rendered with.
    Raises NotAllowed, rendering.TemplateError with what is wrong (syntax and line, an
    undefined name, a missing required element), or rendering.PdfLimitExceeded naming the
    bound (time, pages, memory) that the sample PDF went past.
    """
    if user is not None and not role_has(user, "change_noticetemplate"):
        raise NotAllowed("Only legal reviewers edit notice templates.")
    agency_id = None if user is None or user.is_superuser else user.agency_id
    if user is not None and not user.is_superuser and agency_id is None:
        raise NotAllowed("Only a member of an agency edits its notice templates.")
    if base is not None and base.agency_id not in (None, agency_id) and not (user and user.is_superuser):
        raise NotAllowed("That template belongs to another agency.")
    if base is not None and user is not None and user.is_superuser:
        agency_id = base.agency_id
    rendering.validate_template(subject, body, route=legal_route, locale=locale)
    with transaction.atomic():
        if base is not None and base.agency_id is None and agency_id is not None:
            # The copy says whose it is; "Default: …" would read as the shared one.
            name = (name or base.name).removeprefix("Default: ")
            if user is not None and user.agency is not None and not name.startswith(f"{user.agency.name}: "):
                name = f"{user.agency.name}: {name}"
        same = NoticeTemplate.objects.filter(
            agency_id=agency_id, legal_route=legal_route, locale=locale, platform_id=platform_id
        )
        latest = same.order_by("-version").values_list("version", flat=True).first() or 0
        if base is not None:
            # A copy continues its default's numbering: "v2" reads as the edit of v1.
            latest = max(latest, base.version)
        same.filter(is_active=True).update(is_active=False)
        return NoticeTemplate.objects.create(
            agency_id=agency_id,
            name=name or (base.name if base else f"{legal_route} ({locale})"),
            legal_route=legal_route,
            locale=locale,
            platform_id=platform_id,
            version=latest + 1,
            subject=subject,
            body=body,
            is_active=True,
            created_by=user,
        )


def templates_load_defaults() -> int:
    """Create the shipped default templates that are missing; edited ones are left alone."""
    created = 0
    with transaction.atomic():
        for default in rendering.load_default_templates():
            exists = NoticeTemplate.objects.filter(
                agency__isnull=True, legal_route=default.route, locale=default.locale, platform__isnull=True
            ).exists()
            if exists:
                continue
            NoticeTemplate.objects.create(
                name=f"Default: {LegalRoute(default.route).label} ({default.locale})",
                legal_route=default.route,
                locale=default.locale,
                platform=None,
                version=1,
                subject=default.subject,
                body=default.body,
            )
            created += 1
    return created
