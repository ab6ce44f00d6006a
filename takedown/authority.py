"""Who the agency acts for, and on what record: the authority behind each item of a notice.

A notice states authority only where it is on file:

- an item about a person (a depiction, an impersonation, private information) rests on that
  person's authorization of the agency, in force on the day and covering the route: for a
  group, the member the item depicts (InfringingURL.depicted_person); for a solo artist, the
  artist's own;
- an item about a work (every item of a work route, and copyright items on any route) rests
  on the work it copies (InfringingURL.work) and its owner: the agency itself, or the artist
  by an authorization as above. Someone else's work gives the agency no authority.

`item_authority` answers for one item; `authorization_document_add` stores a document of an
authorization (legal reviewers only, PDF only, outside every public path).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.files.base import ContentFile
from django.db import transaction

from takedown import legal
from takedown.choices import LegalRoute
from takedown.errors import Invalid, NotAllowed
from takedown.models import Authorization, AuthorizationDocument, InfringingURL, RightsRecord, User
from takedown.roles import role_has

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
REQUIRED_DOCUMENTS = (AuthorizationDocument.Kind.POWER_OF_ATTORNEY, AuthorizationDocument.Kind.ID_COPY)


@dataclass(frozen=True)
class ItemAuthority:
    """What one item of a notice rests on. `problem` is empty when the record is complete."""

    about_work: bool
    work: RightsRecord | None = None
    # The person's authorization: of the person depicted, or of the artist who owns the work.
    authorization: Authorization | None = None
    # "owner" (the agency's own rights in the work) or "authorization".
    basis: str = ""
    problem: str = ""


def _route_label(route: str) -> str:
    return str(LegalRoute(route).label)


def _person_authorization(
    url: InfringingURL, route: str, on: date, authorizations: Iterable[Authorization]
) -> tuple[Authorization | None, str]:
    artist = url.artist
    if url.depicted_person_id is not None:
        chosen = url.depicted_person
        if chosen.covers(route, on):
            return chosen, ""
        return None, (
            f"{url.normalized_url}: the authorization of {chosen.person_name} on file does not cover "
            f"the {_route_label(route)} route on {on.isoformat()} (its routes or dates)."
        )
    if artist.is_group:
        return None, (
            f"{url.normalized_url}: {artist.name} is a group, not a person: name the member this item "
            "depicts (Person depicted), by their authorization."
        )
    in_force = sorted(
        (a for a in authorizations if a.covers(route, on)), key=lambda a: a.valid_from, reverse=True
    )
    if not in_force:
        return None, (
            f"{url.normalized_url}: no authorization of {artist.name} covering the {_route_label(route)} "
            f"route is on file for {on.isoformat()}: record it (Artists → Authorizations)."
        )
    return in_force[0], ""


def item_authority(
    url: InfringingURL, route: str, on: date, authorizations: Iterable[Authorization]
) -> ItemAuthority:
    """The record an item of a notice on `route`, sent on `on`, rests on.

    `authorizations` are the artist's (fetched once per notice by the caller).
    """
    authorizations = list(authorizations)
    if not legal.item_about_work(route, url.category):
        authorization, problem = _person_authorization(url, route, on, authorizations)
        return ItemAuthority(
            about_work=False,
            authorization=authorization,
            basis="authorization" if authorization else "",
            problem=problem,
        )
    work = url.work
    if work is None:
        return ItemAuthority(
            about_work=True,
            problem=f"{url.normalized_url} ({url.category}) names no work it copies: link it to the "
            "rights record of that work, or choose a route about the person.",
        )
    if work.owner_kind == RightsRecord.OwnerKind.AGENCY:
        return ItemAuthority(about_work=True, work=work, basis="owner")
    if work.owner_kind == RightsRecord.OwnerKind.ARTIST:
        authorization, problem = _person_authorization(url, route, on, authorizations)
        return ItemAuthority(
            about_work=True,
            work=work,
            authorization=authorization,
            basis="authorization" if authorization else "",
            problem=problem and f"{problem} (the work “{work.title}” is the artist's)",
        )
    return ItemAuthority(
        about_work=True,
        work=work,
        problem=f"{url.normalized_url}: the work “{work.title}” is owned by {work.owner}, and the agency "
        "has no authority on file to claim it.",
    )


def missing_documents(authorization: Authorization) -> list[str]:
    """The document kinds a channel asks for that the authorization lacks (labels)."""
    have = {document.kind for document in authorization.documents.all()}
    return [str(kind.label) for kind in REQUIRED_DOCUMENTS if kind not in have]


def authorization_document_add(
    *, user: User, authorization_id: int, kind: str, name: str, content: bytes
) -> AuthorizationDocument:
    """Store a document of an authorization as the agency uploaded it (PDF only).

    Only legal reviewers (and superusers) may; the file goes to private storage, under a
    name that says nothing about the person. Raises NotAllowed or Invalid.
    """
    if not role_has(user, "add_authorizationdocument"):
        raise NotAllowed("Only legal reviewers handle authorization documents.")
    authorization = Authorization.objects.visible_to(user).filter(pk=authorization_id).first()
    if authorization is None:
        raise Invalid("No such authorization in your agency.")
    if kind not in AuthorizationDocument.Kind.values:
        raise Invalid(f"{kind!r} is not a kind of authorization document.")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise Invalid(f"The document is over {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.")
    # PDF only: a scan is stored and passed on, never rendered or shown in the browser.
    if not content.startswith(b"%PDF-"):
        raise Invalid("Upload the document as a PDF (a scanned image can be saved as PDF).")
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        document = AuthorizationDocument(
            authorization=authorization,
            kind=kind,
            original_name=(name or "")[:255],
            sha256=digest,
            size=len(content),
            uploaded_by=user,
        )
        document.file.save(f"{digest}.pdf", ContentFile(content), save=False)
        document.save()
    return document
