"""Accounts and cases: who may do what (admin and API), agency isolation, the case's timeline."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from takedown import cases
from takedown.errors import Conflict, Invalid, NotAllowed
from takedown.models import Account, Case, CaseEvent
from takedown.tokens import token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def test_it_links_urls_to_the_accounts_that_posted_them(built_case, agency):
    case, _ = built_case
    x = Account.objects.get(agency=agency, platform__slug="x", handle="deepfaker99")
    tg = Account.objects.get(agency=agency, platform__slug="telegram", handle="leakchan")
    assert x.urls.count() == 2 and tg.urls.count() == 2
    assert x.names_seen == ["DeepFaker"] and tg.names_seen == []
    assert x.first_seen <= x.last_seen
    assert set(case.urls.values_list("account__handle", flat=True)) == {"deepfaker99", "leakchan"}


def test_it_lists_repeat_offenders_most_items_first(built_case, agency, artist, staff):
    from tests.notices_setup import import_urls

    import_urls(agency, artist, ["https://t.me/leakchan/9"])
    cases.accounts_link(agency_id=agency.pk)
    top = list(cases.repeat_offenders(staff))
    assert [(a.handle, a.url_count) for a in top] == [("leakchan", 3), ("deepfaker99", 2)]


def test_staff_propose_and_legal_own_close_and_export(built_case, staff, legal, manager):
    case, _ = built_case
    assert case.status == "proposed" and case.legal_owner is None and case.created_by == staff
    with pytest.raises(NotAllowed):
        cases.case_take(user=staff, case_id=case.pk)
    with pytest.raises(NotAllowed):
        cases.case_create(user=manager, title="x")
    with pytest.raises(NotAllowed):
        cases.case_update(user=staff, case_id=case.pk, police_reference="P-1")
    case = cases.case_take(user=legal, case_id=case.pk)
    assert case.status == "open" and case.legal_owner == legal
    with pytest.raises(Conflict):
        cases.case_take(user=legal, case_id=case.pk)
    cases.case_update(user=legal, case_id=case.pk, law_firm_reference="LF-2026-7", police_reference="SMPA-88")
    with pytest.raises(Invalid):
        cases.case_close(user=legal, case_id=case.pk, reason=" ")
    cases.case_close(user=legal, case_id=case.pk, reason="Handed to the police")
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == ["proposed", "taken", "changed", "closed"]
    with pytest.raises(Conflict):
        cases.case_add_urls(user=legal, case_id=case.pk, url_ids=[])


def test_a_case_never_takes_another_agencys_urls_or_accounts(built_case, staff, other_artist, platforms):
    from tests.notices_setup import import_urls

    (theirs,) = import_urls(other_artist.agency, other_artist, ["https://t.me/leakchan/50"])
    cases.accounts_link(agency_id=other_artist.agency_id)
    their_account = Account.objects.get(agency=other_artist.agency)
    with pytest.raises(Invalid):
        cases.case_create(user=staff, title="t", url_ids=[theirs.pk])
    with pytest.raises(Invalid):
        cases.case_create(user=staff, title="t", account_ids=[their_account.pk])
    assert Case.objects.count() == 1  # the built case only: nothing half-written


ROLES = ["api", "staff", "legal", "manager", "outsider"]


def _client(user) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    return c


@pytest.fixture
def users(api_user, staff, legal, manager, outsider):
    return {"api": api_user, "staff": staff, "legal": legal, "manager": manager, "outsider": outsider}


# role → expected status of: list cases, read the case, create, take, dossier, list accounts, read an account
MATRIX = {
    "api": (403, 403, 403, 403, 403, 200, 200),
    "staff": (200, 200, 201, 403, 403, 200, 200),
    "legal": (200, 200, 201, 200, 200, 200, 200),
    "manager": (200, 200, 403, 403, 403, 200, 200),
    "outsider": (200, 404, 400, 404, 404, 200, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_the_api_answers_each_role_as_the_matrix_says(built_case, users, role, agency):
    case, _ = built_case
    account = Account.objects.filter(agency=agency).first()
    c = _client(users[role])
    got = (
        c.get("/api/v1/cases/").status_code,
        c.get(f"/api/v1/cases/{case.pk}/").status_code,
        c.post(
            "/api/v1/cases/", {"title": "By hand", "urls": [case.urls.first().pk]}, format="json"
        ).status_code,
        c.post(f"/api/v1/cases/{case.pk}/take/").status_code,
        c.post(f"/api/v1/cases/{case.pk}/dossier/").status_code,
        c.get("/api/v1/accounts/").status_code,
        c.get(f"/api/v1/accounts/{account.pk}/").status_code,
    )
    assert got == MATRIX[role]
    if role == "outsider":
        assert c.get("/api/v1/cases/").json()["results"] == []
        assert all("deepfaker" not in str(a) for a in c.get("/api/v1/accounts/").json()["results"])


def test_legal_downloads_a_dossier_from_the_api_and_it_verifies(built_case, legal):
    from takedown.dossier_verify import verify_dossier

    case, _ = built_case
    c = _client(legal)
    assert c.post(f"/api/v1/cases/{case.pk}/take/").json()["legal_owner"] == legal.username
    assert c.get(f"/api/v1/cases/{case.pk}/dossier/").status_code == 405  # an export is recorded: POST
    response = c.post(f"/api/v1/cases/{case.pk}/dossier/?locale=ko")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert verify_dossier(response.content, database=True).ok
    detail = c.get(f"/api/v1/cases/{case.pk}/").json()
    assert [e["kind"] for e in detail["events"]] == ["proposed", "taken", "dossier_exported"]
    assert len(detail["url_ids"]) == 4
    # The export is on the timeline with the very ZIP's digest: a copy can be matched to it later.
    exported = detail["events"][-1]["data"]
    assert exported["sha256"] == hashlib.sha256(response.content).hexdigest()
    assert (exported["bytes"], exported["urls"], exported["locale"]) == (len(response.content), 4, "ko")


def test_a_big_case_is_exported_in_the_background_with_progress(
    built_case, legal, settings, tmp_path, client
):
    from takedown import jobs
    from takedown.dossier_verify import verify_dossier
    from takedown.models import Job

    case, _ = built_case
    settings.TAKEDOWN_DOSSIER_BACKGROUND_URLS = 2
    job = jobs.dossier_export_now_or_later(user=legal, case_id=case.pk, locale="en")
    assert isinstance(job, Job) and job.total == 4
    assert jobs.job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert job.done == 4 and job.result["urls"] == 4
    client.force_login(legal)
    page = client.get(f"/admin/takedown/job/{job.pk}/change/")
    assert b"job-dossier" in page.content
    download = client.get(f"/admin/takedown/case/dossier/{job.pk}/download/")
    body = b"".join(download.streaming_content)
    assert verify_dossier(body, database=True).ok
    assert zipfile.ZipFile(io.BytesIO(body)).namelist()
    # Recorded once, with the job's end and the stored file's digest; running the job again
    # (a second worker, a retry) neither rewrites nor records it twice.
    exports = list(CaseEvent.objects.filter(case=case, kind="dossier_exported"))
    assert len(exports) == 1 and exports[0].data["sha256"] == hashlib.sha256(body).hexdigest()
    assert exports[0].data["job"] == job.pk and exports[0].actor == legal
    assert jobs.job_run(job_id=job.pk) == "skipped"
    assert CaseEvent.objects.filter(case=case, kind="dossier_exported").count() == 1


def test_another_agencys_user_gets_404_on_case_dossier_and_account_in_the_admin(
    built_case, client, outsider, agency
):
    case, _ = built_case
    account = Account.objects.filter(agency=agency).first()
    client.force_login(outsider)
    assert client.get(f"/admin/takedown/case/{case.pk}/change/").status_code in (302, 404)
    assert client.post(f"/admin/takedown/case/{case.pk}/dossier/").status_code == 404
    assert client.get(f"/admin/takedown/account/{account.pk}/change/").status_code in (302, 404)
    assert "deepfaker" not in client.get("/admin/takedown/account/").content.decode()


def test_staff_propose_a_case_from_accounts_in_the_admin_and_legal_take_it_on(
    built_case, client, staff, legal, agency
):
    ids = list(Account.objects.filter(agency=agency).values_list("pk", flat=True))
    client.force_login(staff)
    page = client.get("/admin/takedown/account/")
    assert page.status_code == 200 and "deepfaker99" in page.content.decode()
    response = client.post("/admin/takedown/account/", {"action": "propose_case", "_selected_action": ids})
    case = Case.objects.order_by("-pk").first()
    assert response.status_code == 302 and case.title.startswith("Accounts:") and case.urls.count() == 4
    assert b"case-take" not in client.get(f"/admin/takedown/case/{case.pk}/change/").content
    client.force_login(legal)
    assert b"case-take" in client.get(f"/admin/takedown/case/{case.pk}/change/").content
    client.post(f"/admin/takedown/case/{case.pk}/do/take/")
    case.refresh_from_db()
    assert case.status == "open" and case.legal_owner == legal


def test_the_commands_export_and_verify_a_dossier_and_catch_a_changed_one(built_case, legal, tmp_path):
    from django.core.management.base import CommandError

    case, _ = built_case
    cases.case_take(user=legal, case_id=case.pk)
    target = tmp_path / "case.zip"
    out = io.StringIO()
    call_command("export_dossier", str(case.pk), "--output", str(target), "--locale", "ko", stdout=out)
    assert "4 URLs" in out.getvalue() and target.exists()
    exported = CaseEvent.objects.filter(case=case, kind="dossier_exported").get()
    assert exported.data["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert exported.actor == legal and exported.data["locale"] == "ko"
    out = io.StringIO()
    call_command("verify_dossier", str(target), stdout=out)
    assert "OK: files, signature and chain hold." in out.getvalue()
    data = bytearray(target.read_bytes())
    src = zipfile.ZipFile(io.BytesIO(bytes(data)))
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(
                info.filename,
                body.replace(b"X-TIDA-12345", b"X-TIDA-12346") if info.filename == "data.json" else body,
            )
    (tmp_path / "bad.zip").write_bytes(bad.getvalue())
    with pytest.raises(CommandError):
        call_command("verify_dossier", str(tmp_path / "bad.zip"), stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("export_dossier", "999999", "--output", str(tmp_path / "x.zip"), stdout=io.StringIO())


def test_staff_group_urls_by_hand_into_a_case_from_the_url_list(built_case, client, staff):
    case, _ = built_case
    ids = list(case.urls.values_list("pk", flat=True))[:3]
    client.force_login(staff)
    response = client.post(
        "/admin/takedown/infringingurl/", {"action": "propose_case", "_selected_action": ids}
    )
    new = Case.objects.order_by("-pk").first()
    assert response.status_code == 302 and new != case
    assert sorted(new.urls.values_list("pk", flat=True)) == sorted(ids) and new.status == "proposed"


def test_erasing_an_artist_takes_their_urls_out_of_cases_and_keeps_the_case(built_case, artist, legal):
    from takedown import erasure

    case, _ = built_case
    ids = sorted(case.urls.values_list("pk", flat=True))
    erasure.artist_erase(artist_id=artist.pk, user=legal)
    case.refresh_from_db()
    assert case.urls.count() == 0 and not case.artists.filter(pk=artist.pk).exists()
    # The case's timeline (and chain) says which URLs erasure took out.
    event = case.events.order_by("-pk").first()
    assert (event.kind, event.data["url_ids"]) == ("urls_erased", ids)
    from takedown import chain

    assert chain.verify_chain(case.agency).ok


def test_adding_and_removing_urls_chains_the_url_ids_not_only_a_count(built_case, legal):
    import json

    from takedown.models import ChainEntry

    case, _notice = built_case
    cases.case_take(user=legal, case_id=case.pk)
    ids = sorted(case.urls.values_list("pk", flat=True))[:2]
    assert cases.case_remove_urls(user=legal, case_id=case.pk, url_ids=ids) == 2
    assert cases.case_add_urls(user=legal, case_id=case.pk, url_ids=ids) == 2
    contents = [
        json.loads(c)
        for c in ChainEntry.objects.filter(kind="case_event")
        .order_by("seq")
        .values_list("content", flat=True)
    ]
    assert [(c["kind"], c["data"]["url_ids"]) for c in contents[-2:]] == [
        ("urls_removed", ids),
        ("urls_added", ids),
    ]


def test_a_closed_case_stays_as_it_was_closed(built_case, legal, client):
    case, _ = built_case
    cases.case_take(user=legal, case_id=case.pk)
    cases.case_close(user=legal, case_id=case.pk, reason="Handed to the police")
    ids = sorted(case.urls.values_list("pk", flat=True))
    events = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(Conflict):
        cases.case_update(user=legal, case_id=case.pk, police_reference="SMPA-99")
    with pytest.raises(Conflict):
        cases.case_remove_urls(user=legal, case_id=case.pk, url_ids=ids[:1])
    with pytest.raises(Conflict):
        cases.case_add_urls(user=legal, case_id=case.pk, url_ids=ids[:1])
    api = _client(legal)
    assert api.patch(f"/api/v1/cases/{case.pk}/", {"police_reference": "X"}, format="json").status_code == 409
    # The admin shows it read-only: a crafted POST changes nothing either.
    client.force_login(legal)
    page = client.get(f"/admin/takedown/case/{case.pk}/change/").content.decode()
    assert 'name="police_reference"' not in page and 'name="_save"' not in page
    client.post(f"/admin/takedown/case/{case.pk}/change/", {"title": "Renamed", "police_reference": "X"})
    case.refresh_from_db()
    assert case.title != "Renamed" and case.police_reference == ""
    assert sorted(case.urls.values_list("pk", flat=True)) == ids
    assert CaseEvent.objects.filter(case=case).count() == events


def test_the_case_timeline_reads_in_korean(built_case, legal, client):
    case, _ = built_case
    cases.case_take(user=legal, case_id=case.pk)
    cases.case_update(user=legal, case_id=case.pk, police_reference="SMPA-88")
    client.force_login(legal)
    page = client.get(f"/admin/takedown/case/{case.pk}/change/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    for english in ("Save and add another", ">urls_added<", ">taken<", ">proposed<", ">Detail<", ">Kind<"):
        assert english not in page, english
    for korean in ("제안됨", "담당 지정됨", "변경됨", "경찰 접수번호", "세부 내용"):
        assert korean in page, korean


def test_an_api_client_follows_a_background_dossier_to_its_zip(built_case, legal, users, settings):
    from takedown import jobs
    from takedown.dossier_verify import verify_dossier

    case, _ = built_case
    settings.TAKEDOWN_DOSSIER_BACKGROUND_URLS = 2
    c = _client(legal)
    started = c.post(f"/api/v1/cases/{case.pk}/dossier/")
    assert started.status_code == 202
    body = started.json()
    assert (body["state"], body["done"], body["total"]) == ("queued", 0, 4)
    assert body["location"] == f"/api/v1/cases/{case.pk}/dossier/{body['job']}/"
    assert c.get(body["location"]).status_code == 202  # not written yet
    assert jobs.job_run(job_id=body["job"]) == "done"
    done = c.get(body["location"])
    assert done.status_code == 200 and done["Content-Type"] == "application/zip"
    assert verify_dossier(b"".join(done.streaming_content), database=True).ok
    # Another case's path, another role, a made-up job: nothing leaks.
    assert _client(users["staff"]).get(body["location"]).status_code == 403
    assert c.get(f"/api/v1/cases/{case.pk}/dossier/99999/").status_code == 404
    other = cases.case_create(user=legal, title="Other", url_ids=[case.urls.first().pk])
    assert c.get(f"/api/v1/cases/{other.pk}/dossier/{body['job']}/").status_code == 404
    assert _client(users["outsider"]).get(body["location"]).status_code == 404


def test_an_export_whose_file_cannot_be_put_in_place_leaves_no_record_and_no_file(
    built_case, legal, tmp_path, monkeypatch
):
    from django.core.management.base import CommandError

    case, _ = built_case
    cases.case_take(user=legal, case_id=case.pk)
    earlier = tmp_path / "earlier.zip"
    earlier.write_bytes(b"an earlier export")
    before = sorted(p.name for p in tmp_path.iterdir())
    # A file already there (perhaps one the timeline names) is never replaced.
    with pytest.raises(CommandError, match="exists"):
        call_command("export_dossier", str(case.pk), "--output", str(earlier), stdout=io.StringIO())
    assert earlier.read_bytes() == b"an earlier export"

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("takedown.management.commands.export_dossier.os.replace", fail)
    with pytest.raises(CommandError, match=r"Could not write .*No space left on device"):
        call_command(
            "export_dossier", str(case.pk), "--output", str(tmp_path / "new.zip"), stdout=io.StringIO()
        )
    assert not CaseEvent.objects.filter(case=case, kind="dossier_exported").exists()
    # Neither the ZIP nor its partial file is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == before
