"""Notices through the API: drafting, submission, review, sending, the frozen PDF."""

from __future__ import annotations

import hashlib

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from takedown import importing
from takedown.models import InfringingURL, Notice
from takedown.tokens import token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    return client


@pytest.fixture
def telegram_urls(agency, artist, platforms, templates):
    importing.import_rows(
        [
            {"url": u, "category": "synthetic_sexual"}
            for u in ("https://t.me/leakchan/101", "https://t.me/leakchan/102")
        ],
        agency=agency,
        artist=artist,
    )
    return list(InfringingURL.objects.order_by("pk"))


@pytest.fixture
def staff_api(staff):
    return client_for(staff)


@pytest.fixture
def legal_api(legal):
    return client_for(legal)


@pytest.fixture
def pending(staff_api, telegram_urls):
    drafted = staff_api.post(
        "/api/v1/notices/prepare/", {"urls": [u.pk for u in telegram_urls]}, format="json"
    )
    assert drafted.status_code == 200, drafted.json()
    (notice,) = drafted.json()["notices"]
    submitted = staff_api.post(f"/api/v1/notices/{notice['id']}/submit/")
    assert submitted.status_code == 200, submitted.json()
    return submitted.json()


def test_it_drafts_and_submits_a_notice_for_staff(staff_api, telegram_urls, artist):
    drafted = staff_api.post("/api/v1/notices/prepare/", {"artist": artist.pk}, format="json")
    assert drafted.status_code == 200
    body = drafted.json()
    assert body["skipped"] == 0
    (notice,) = body["notices"]
    assert (notice["status"], notice["platform"], notice["url_count"], notice["created_by"]) == (
        "draft", "telegram", 2, "staff"
    )  # fmt: skip
    submitted = staff_api.post(f"/api/v1/notices/{notice['id']}/submit/").json()
    assert submitted["status"] == "pending"
    assert len(submitted["pdf_sha256"]) == 64
    assert submitted["pdf_url"].endswith(f"/api/v1/notices/{notice['id']}/pdf/")
    assert [u["normalized_url"] for u in submitted["urls"]] == [
        "https://t.me/leakchan/101",
        "https://t.me/leakchan/102",
    ]
    assert [(e["from_status"], e["to_status"]) for e in submitted["events"]] == [
        ("", "draft"),
        ("draft", "pending"),
    ]


def test_it_lists_every_presend_problem_in_errors(staff_api, telegram_urls, agency):
    agency.signatory_name = ""
    agency.save()
    (notice,) = staff_api.post(
        "/api/v1/notices/prepare/", {"urls": [telegram_urls[0].pk]}, format="json"
    ).json()["notices"]
    response = staff_api.post(f"/api/v1/notices/{notice['id']}/submit/")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] and all(e["field"] == "" and e["message"] for e in body["errors"])
    assert Notice.objects.get(pk=notice["id"]).status == "draft"


def test_it_answers_400_to_prepare_without_urls_or_artist(staff_api, telegram_urls):
    response = staff_api.post("/api/v1/notices/prepare/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Give `urls`")


def test_it_serves_the_frozen_pdf_with_its_hash(staff_api, pending):
    response = staff_api.get(f"/api/v1/notices/{pending['id']}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert (
        response["X-Content-SHA256"] == pending["pdf_sha256"] == hashlib.sha256(response.content).hexdigest()
    )
    assert response["Content-Disposition"] == f'attachment; filename="notice-{pending["id"]}.pdf"'


def test_it_answers_409_for_the_pdf_of_a_draft_even_to_a_pdf_client(staff_api, telegram_urls):
    (notice,) = staff_api.post(
        "/api/v1/notices/prepare/", {"urls": [telegram_urls[0].pk]}, format="json"
    ).json()["notices"]
    response = staff_api.get(f"/api/v1/notices/{notice['id']}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/json"
    assert "no frozen PDF yet" in response.json()["detail"]


def test_it_lets_legal_approve_and_send_through_a_web_form(
    legal_api, staff, agency, artist, platforms, templates
):
    importing.import_rows([{"url": "https://x.com/someone/status/1234567890", "category": "impersonation"}],
                          agency=agency, artist=artist)  # fmt: skip
    staff_api = client_for(staff)
    (notice,) = staff_api.post("/api/v1/notices/prepare/", {"artist": artist.pk}, format="json").json()[
        "notices"
    ]
    staff_api.post(f"/api/v1/notices/{notice['id']}/submit/")
    approved = legal_api.post(f"/api/v1/notices/{notice['id']}/approve/")
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["reviewed_by"]) == ("approved", "legal")
    no_reference = legal_api.post(f"/api/v1/notices/{notice['id']}/send/", {}, format="json")
    assert no_reference.status_code == 400
    assert "reference" in no_reference.json()["detail"]
    sent = legal_api.post(
        f"/api/v1/notices/{notice['id']}/send/", {"reference": "TIDA-2026-0042"}, format="json"
    )
    assert sent.status_code == 200
    assert (sent.json()["status"], sent.json()["reference"]) == ("sent", "TIDA-2026-0042")
    url = staff_api.get("/api/v1/urls/").json()["results"][0]
    assert url["status"] == "notified" and url["notified_at"]


def test_it_answers_409_when_the_state_moved_first(legal_api, legal2, pending):
    assert legal_api.post(f"/api/v1/notices/{pending['id']}/approve/").status_code == 200
    again = client_for(legal2).post(f"/api/v1/notices/{pending['id']}/approve/")
    assert again.status_code == 409
    assert "approved" in again.json()["detail"]
    rejected_late = legal_api.post(
        f"/api/v1/notices/{pending['id']}/reject/", {"reason": "late"}, format="json"
    )
    assert rejected_late.status_code == 409


def test_it_requires_a_reason_to_reject(legal_api, pending):
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = legal_api.post(f"/api/v1/notices/{pending['id']}/reject/", body, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] in ("reason", "")
    response = legal_api.post(
        f"/api/v1/notices/{pending['id']}/reject/", {"reason": "Wrong route"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["rejection_reason"]) == ("rejected", "Wrong route")


def test_it_refuses_a_staff_token_and_a_self_review(staff_api, legal, pending, telegram_urls):
    refused = staff_api.post(f"/api/v1/notices/{pending['id']}/approve/")
    assert refused.status_code == 403
    assert (
        refused.json()["detail"]
        == "Your role (Staff) may not approve, reject or send notices (legal reviewers only)."
    )
    assert Notice.objects.get(pk=pending["id"]).status == "pending"
    # A legal reviewer who drafted the notice may not approve it either (the service says why).
    legal_api = client_for(legal)
    InfringingURL.objects.create(
        artist=telegram_urls[0].artist, url="https://t.me/leakchan/103", normalized_url="https://t.me/leakchan/103",
        host="t.me", platform=telegram_urls[0].platform, category="synthetic_sexual", legal_route="platform_policy",
    )  # fmt: skip
    (own,) = legal_api.post(
        "/api/v1/notices/prepare/",
        {"urls": [InfringingURL.objects.get(url__endswith="/103").pk]},
        format="json",
    ).json()["notices"]
    legal_api.post(f"/api/v1/notices/{own['id']}/submit/")
    self_review = legal_api.post(f"/api/v1/notices/{own['id']}/approve/")
    assert self_review.status_code == 403
    assert "another legal reviewer" in self_review.json()["detail"]


def test_it_does_not_draft_another_agencys_urls(
    staff_api, outsider, other_artist, other_agency, platforms, templates
):
    importing.import_rows([{"url": "https://t.me/comet/1", "category": "privacy"}], agency=other_agency,
                          artist=other_artist)  # fmt: skip
    foreign = InfringingURL.objects.get(artist=other_artist)
    response = staff_api.post("/api/v1/notices/prepare/", {"urls": [foreign.pk]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"notices": [], "skipped": 0}
    assert not Notice.objects.exists()


def test_it_filters_notices_by_status(staff_api, pending, telegram_urls):
    assert [n["id"] for n in staff_api.get("/api/v1/notices/?status=pending").json()["results"]] == [
        pending["id"]
    ]
    assert staff_api.get("/api/v1/notices/?status=sent").json()["results"] == []
    row = staff_api.get("/api/v1/notices/").json()["results"][0]
    assert row["url_count"] == 2 and "events" not in row
