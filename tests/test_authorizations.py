"""An artist's authorization of the agency and its documents: legal reviewers record them, the
documents live outside every public path, and nobody else sees them, not even listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from takedown import authority
from takedown.errors import Invalid, NotAllowed
from takedown.models import Authorization, AuthorizationDocument
from tests.notices_setup import PDF

pytestmark = pytest.mark.django_db


@pytest.fixture
def authorization(artist):
    return artist.authorizations.get()


@pytest.fixture
def document(authorization, legal):
    return authority.authorization_document_add(
        user=legal,
        authorization_id=authorization.pk,
        kind="power_of_attorney",
        name="위임장 강루나.pdf",
        content=PDF,
    )


def test_it_stores_a_pdf_outside_every_public_path_under_a_name_that_says_nothing(document, settings):
    path = Path(document.file.path)
    assert path.read_bytes() == PDF
    assert Path(settings.TAKEDOWN_PRIVATE_DIR) in path.parents
    assert Path(settings.STATIC_ROOT) not in path.parents
    assert "강루나" not in str(path) and document.sha256 in path.name
    with pytest.raises(ValueError, match="no public URL"):
        _ = document.file.url


def test_it_takes_pdfs_from_legal_reviewers_only(authorization, staff, manager, legal, other_agency):
    from takedown.models import User

    outsider = User.objects.create_user(
        username="comet-legal", password="x" * 20, agency=other_agency, role="legal"
    )
    for user in (staff, manager):
        with pytest.raises(NotAllowed):
            authority.authorization_document_add(
                user=user, authorization_id=authorization.pk, kind="id_copy", name="id.pdf", content=PDF
            )
    with pytest.raises(Invalid, match="PDF"):
        authority.authorization_document_add(
            user=legal,
            authorization_id=authorization.pk,
            kind="id_copy",
            name="id.png",
            content=b"\x89PNG\r\n",
        )
    with pytest.raises(Invalid, match="No such authorization"):
        authority.authorization_document_add(
            user=outsider, authorization_id=authorization.pk, kind="id_copy", name="id.pdf", content=PDF
        )


def test_it_lists_documents_to_legal_reviewers_of_the_agency_only(
    other_agency, document, staff, manager, api_user, legal, superuser
):
    from takedown.models import User

    outsider_legal = User.objects.create_user(
        username="comet-legal", password="x" * 20, agency=other_agency, role="legal"
    )
    assert list(AuthorizationDocument.objects.visible_to(legal)) == [document]
    assert list(AuthorizationDocument.objects.visible_to(superuser)) == [document]
    for user in (staff, manager, api_user):
        assert not AuthorizationDocument.objects.visible_to(user).exists()
    assert not AuthorizationDocument.objects.visible_to(outsider_legal).exists()


def test_it_shows_and_serves_documents_in_the_admin_to_legal_reviewers_only(client, document, staff, legal):
    change = reverse("admin:takedown_authorization_change", args=[document.authorization_id])
    download = reverse("admin:takedown_authorization_document", args=[document.authorization_id, document.pk])

    client.force_login(staff)
    page = client.get(change)
    assert page.status_code == 200  # staff see that an authorization is on file...
    assert download not in page.content.decode() and "Download (PDF)" not in page.content.decode()
    assert client.get(download).status_code == 403  # ...never its documents

    client.force_login(legal)
    assert download in client.get(change).content.decode()
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_it_uploads_through_the_admin_as_a_legal_reviewer(client, authorization, legal):
    client.force_login(legal)
    change = reverse("admin:takedown_authorization_change", args=[authorization.pk])
    form = {
        "artist": authorization.artist_id,
        "person_name": authorization.person_name,
        "person_name_ko": authorization.person_name_ko,
        "scope": authorization.scope,
        "routes": authorization.routes,
        "valid_from": authorization.valid_from.isoformat(),
        "documents-TOTAL_FORMS": "1",
        "documents-INITIAL_FORMS": "0",
        "documents-MIN_NUM_FORMS": "0",
        "documents-MAX_NUM_FORMS": "1000",
        "documents-0-kind": "id_copy",
    }
    from django.core.files.uploadedfile import SimpleUploadedFile

    form["documents-0-upload"] = SimpleUploadedFile("id.pdf", PDF, content_type="application/pdf")
    response = client.post(change, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    (stored,) = AuthorizationDocument.objects.filter(authorization=authorization)
    assert (stored.kind, stored.uploaded_by, stored.size) == ("id_copy", legal, len(PDF))


def test_it_keeps_authorizations_out_of_the_api(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert not [
        path for path in schema.json()["paths"] if "authoriz" in path.lower() or "document" in path.lower()
    ]
    for name in ("AuthorizationDocument", "person_name", "depicted_person", "id_copy"):
        assert name not in schema.content.decode()


def test_it_checks_an_authorizations_routes_and_dates(artist):
    from datetime import date

    authorization = Authorization(
        artist=artist, person_name="Luna Kang", scope="x", routes=[], valid_from=date(2026, 1, 1)
    )
    with pytest.raises(Exception, match="legal route"):
        authorization.full_clean()
    authorization.routes = ["take_it_down"]
    authorization.valid_until = date(2025, 1, 1)
    with pytest.raises(Exception, match="before the start"):
        authorization.full_clean()
    authorization.valid_until = date(2026, 12, 31)
    assert authorization.covers("take_it_down", date(2026, 6, 1))
    assert not authorization.covers("dmca", date(2026, 6, 1))
    assert not authorization.covers("take_it_down", date(2027, 1, 1))
