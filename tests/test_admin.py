"""The staff admin: agency isolation, the CSV upload page, read-only statuses."""

from __future__ import annotations

import pytest
from django.urls import reverse

from takedown import importing
from takedown.models import InfringingURL, Notice, URLCheck

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls(agency, artist, other_artist, platforms):
    importing.import_rows(
        [{"url": "https://www.youtube.com/watch?v=mine0000001", "category": "synthetic_sexual"}],
        agency=agency,
        artist=artist,
    )
    importing.import_rows(
        [{"url": "https://www.youtube.com/watch?v=theirs00001", "category": "synthetic_sexual"}],
        agency=other_artist.agency,
        artist=other_artist,
    )
    mine = InfringingURL.objects.get(artist=artist)
    theirs = InfringingURL.objects.get(artist=other_artist)
    URLCheck.objects.create(url=mine, verdict="live", title="mine-check")
    URLCheck.objects.create(url=theirs, verdict="live", title="theirs-check")
    return mine, theirs


@pytest.fixture
def notices(artist, other_artist, staff, outsider, platforms):
    mine = Notice.objects.create(
        agency=artist.agency,
        artist=artist,
        platform=platforms["youtube"],
        legal_route="dmca",
        created_by=staff,
    )
    theirs = Notice.objects.create(
        agency=other_artist.agency,
        artist=other_artist,
        platform=platforms["youtube"],
        legal_route="dmca",
        created_by=outsider,
    )
    return mine, theirs


def test_it_lists_only_the_users_agency(client, staff, artist, other_artist, urls, notices):
    client.force_login(staff)
    pages = {
        "admin:takedown_artist_changelist": ("Luna Kang", "Rio Seo"),
        "admin:takedown_infringingurl_changelist": ("mine0000001", "theirs00001"),
        "admin:takedown_urlcheck_changelist": ("mine0000001", "theirs00001"),
        "admin:takedown_agency_changelist": ("Starlight", "Comet"),
    }
    for name, (visible, hidden) in pages.items():
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        body = response.content.decode()
        assert visible in body, name
        assert hidden not in body, name
    response = client.get(reverse("admin:takedown_notice_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert list(response.context["cl"].result_list) == [notices[0]]


def test_it_answers_404_for_another_agencys_objects(client, staff, other_artist, urls, notices):
    client.force_login(staff)
    _, their_url = urls
    _, their_notice = notices
    for name, pk in [
        ("admin:takedown_artist_change", other_artist.pk),
        ("admin:takedown_infringingurl_change", their_url.pk),
        ("admin:takedown_notice_change", their_notice.pk),
        ("admin:takedown_urlcheck_change", their_url.checks.get().pk),
    ]:
        response = client.get(reverse(name, args=[pk]))
        # The admin redirects to its index with "doesn't exist" for objects outside the queryset.
        assert response.status_code == 302, name
        assert response.url == reverse("admin:index")
    response = client.post(
        reverse("admin:takedown_artist_change", args=[other_artist.pk]),
        {"name": "Hijacked", "slug": "rio-seo", "aliases": "", "official_accounts": ""},
    )
    other_artist.refresh_from_db()
    assert other_artist.name == "Rio Seo"


def test_it_offers_only_own_artists_in_autocomplete(client, staff, artist, other_artist):
    client.force_login(staff)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "takedown", "model_name": "infringingurl", "field_name": "artist", "term": ""},
    )
    assert response.status_code == 200
    ids = {r["id"] for r in response.json()["results"]}
    assert ids == {str(artist.pk)}


def test_it_refuses_an_add_for_another_agencys_artist(client, staff, other_artist, platforms):
    client.force_login(staff)
    response = client.post(
        reverse("admin:takedown_infringingurl_add"),
        {
            "artist": other_artist.pk,
            "url": "https://example.com/x",
            "category": "copyright",
            "discovered_at_0": "2026-11-01",
            "discovered_at_1": "10:00:00",
        },
    )
    assert response.status_code == 200
    assert "artist" in response.context["adminform"].form.errors
    assert not InfringingURL.objects.exists()


def test_it_adds_one_url_through_the_intake_checks(client, staff, artist, platforms):
    client.force_login(staff)
    add = reverse("admin:takedown_infringingurl_add")
    form = {
        "artist": artist.pk,
        "category": "synthetic_sexual",
        "discovered_at_0": "2026-11-01",
        "discovered_at_1": "10:00:00",
    }
    response = client.post(add, {**form, "url": "https://youtu.be/abcDEF12345?si=zz"})
    assert response.status_code == 302
    url = InfringingURL.objects.get()
    assert url.normalized_url == "https://www.youtube.com/watch?v=abcDEF12345"
    assert url.platform.slug == "youtube"
    assert url.added_by == staff
    assert url.legal_route == platforms["youtube"].default_route

    duplicate = client.post(add, {**form, "url": "https://m.youtube.com/watch?v=abcDEF12345"})
    assert duplicate.status_code == 200
    assert "already recorded" in str(duplicate.context["adminform"].form.errors["url"])
    unsafe = client.post(add, {**form, "url": "http://169.254.169.254/latest/meta-data"})
    assert unsafe.status_code == 200
    assert unsafe.context["adminform"].form.errors["url"]
    official = client.post(add, {**form, "url": "https://x.com/luna_official/status/9"})
    assert "official" in str(official.context["adminform"].form.errors["url"])
    assert InfringingURL.objects.count() == 1


def test_it_shows_statuses_read_only(client, staff, urls):
    client.force_login(staff)
    mine, _ = urls
    change = reverse("admin:takedown_infringingurl_change", args=[mine.pk])
    response = client.get(change)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "status" not in form.fields
    assert "normalized_url" not in form.fields
    client.post(
        change,
        {
            "category": "privacy",
            "legal_route": "dsa",
            "note": "triaged",
            "status": "removed",
            "discovered_at_0": "2026-11-01",
            "discovered_at_1": "10:00:00",
            "checks-TOTAL_FORMS": "0",
            "checks-INITIAL_FORMS": "1",
        },
    )
    mine.refresh_from_db()
    assert mine.status == "open"


def test_it_uploads_a_csv_and_reports_each_rejected_row(client, staff, artist, platforms):
    client.force_login(staff)
    csv_bytes = (
        "\ufeffurl,category,note\n"
        'https://youtu.be/abcDEF12345,synthetic_sexual,"강루나, 딥페이크"\n'
        "https://www.youtube.com/watch?v=abcDEF12345,synthetic_sexual,same video\n"
        "http://10.0.0.7/leak,real_intimate,\n"
        "https://x.com/luna_official,impersonation,\n"
        "https://t.me/leakchannel/77,real_intimate,\n"
    ).encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("admin:takedown_infringingurl_upload"),
        {"artist": artist.pk, "file": SimpleUploadedFile("urls.csv", csv_bytes, "text/csv")},
    )
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.created, report.duplicates, report.rejected) == (2, 1, 2)
    assert [(e.row, e.field) for e in report.errors] == [(3, "url"), (4, "url")]
    body = response.content.decode()
    assert "official allow-list" in body
    assert InfringingURL.objects.filter(source="csv", added_by=staff).count() == 2
    assert InfringingURL.objects.get(host="t.me").platform.slug == "telegram"


def test_it_explains_an_unreadable_upload(client, staff, artist):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(staff)
    response = client.post(
        reverse("admin:takedown_infringingurl_upload"),
        {"artist": artist.pk, "file": SimpleUploadedFile("urls.csv", b"\xff\xfe\x00garbage", "text/csv")},
    )
    assert response.status_code == 200
    assert "not UTF-8" in str(response.context["form"].errors["file"])
    assert not InfringingURL.objects.exists()


def test_it_refuses_an_upload_over_the_size_limit(client, staff, artist, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.TAKEDOWN_IMPORT_MAX_BYTES = 100
    client.force_login(staff)
    data = b"url,category\n" + b"https://example.com/aaaaaaaaaaaaaaaa,copyright\n" * 10
    response = client.post(
        reverse("admin:takedown_infringingurl_upload"),
        {"artist": artist.pk, "file": SimpleUploadedFile("urls.csv", data, "text/csv")},
    )
    assert "the limit is 100 bytes" in str(response.context["form"].errors["file"])
    assert not InfringingURL.objects.exists()


def test_it_keeps_the_api_role_out_of_the_admin(client, api_user):
    client.force_login(api_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response.url


def test_it_lets_a_manager_read_but_not_add_urls(client, manager, urls):
    client.force_login(manager)
    assert client.get(reverse("admin:takedown_infringingurl_changelist")).status_code == 200
    assert client.get(reverse("admin:takedown_infringingurl_add")).status_code == 403
    assert client.get(reverse("admin:takedown_infringingurl_upload")).status_code == 403


def test_it_dismisses_and_reopens_urls_only_of_the_agency(client, staff, urls):
    client.force_login(staff)
    mine, theirs = urls
    changelist = reverse("admin:takedown_infringingurl_changelist")
    client.post(changelist, {"action": "dismiss_urls", "_selected_action": [mine.pk, theirs.pk]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == ("dismissed", "open")
    client.post(changelist, {"action": "reopen_urls", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.status == "open"


def test_it_runs_a_large_upload_in_the_background_and_shows_its_progress(
    client, staff, outsider, artist, platforms, settings, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from takedown import jobs
    from takedown.models import Job

    settings.TAKEDOWN_BACKGROUND_ROWS = 100
    client.force_login(staff)
    lines = ["url,category"] + [
        f"https://www.youtube.com/watch?v=bg{i:09d},synthetic_sexual" for i in range(250)
    ]
    lines.append("http://[::1]/x,copyright")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            reverse("admin:takedown_infringingurl_upload"),
            {
                "artist": artist.pk,
                "file": SimpleUploadedFile("big.csv", "\n".join(lines).encode(), "text/csv"),
            },
        )
    job = Job.objects.get()
    assert response.url == reverse("admin:takedown_job_change", args=[job.pk])
    assert len(queued) == 1
    assert (job.state, job.total, job.done) == ("queued", 251, 0)
    page = client.get(response.url).content.decode()
    assert 'id="job-bar"' in page
    assert jobs.job_run(job_id=job.pk) == "done"
    assert jobs.job_run(job_id=job.pk) == "skipped"
    status = client.get(reverse("admin:takedown_job_status", args=[job.pk])).json()
    assert status["state"] == "done" and status["percent"] == 100
    assert status["result"]["created"] == 250 and status["result"]["rejected"] == 1
    assert status["result"]["errors"][0]["row"] == 251
    job.refresh_from_db()
    assert "rows" not in job.params
    assert InfringingURL.objects.filter(artist=artist).count() == 250
    # The finished job's page says what it did, in words, which row it refused and why, and
    # links to exactly the rows it created.
    page = client.get(response.url, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert '<p id="job-result">생성 250건, 중복 0건, 거부 1건.</p>' in page
    errors = page.split('id="job-errors"')[1].split("</table>")[0]
    assert "<td>251</td><td>252</td>" in errors and "가져오지 못한 행" in errors
    rows_url = page.split('id="job-rows" href="')[1].split('"')[0].replace("&amp;", "&")
    InfringingURL.objects.create(
        agency=artist.agency, artist=artist, url="https://www.youtube.com/watch?v=later00001",
        category="synthetic_sexual", source="admin",
    )  # fmt: skip
    listing = client.get(rows_url + "&o=1")
    assert listing.context["cl"].result_count == 250
    assert all(
        u.url.startswith("https://www.youtube.com/watch?v=bg") for u in listing.context["cl"].result_list
    )
    client.force_login(outsider)
    assert client.get(reverse("admin:takedown_job_status", args=[job.pk])).status_code == 404


def test_it_exports_the_filtered_list_as_formula_safe_csv(
    client, staff, agency, artist, other_artist, platforms
):
    import csv
    import io

    importing.import_rows(
        [
            {
                "url": "https://www.youtube.com/watch?v=keep0000001",
                "category": "copyright",
                "note": '=HYPERLINK("http://evil.example","x")',
            },
            {
                "url": "https://www.youtube.com/watch?v=keep0000002",
                "category": "copyright",
                "note": "@SUM(1)",
            },
            {"url": "https://t.me/chan/5", "category": "privacy", "note": "+1 -1"},
        ],
        agency=agency,
        artist=artist,
    )
    importing.import_rows(
        [{"url": "https://t.me/theirs/1", "category": "privacy"}],
        agency=other_artist.agency,
        artist=other_artist,
    )
    client.force_login(staff)
    response = client.get(
        reverse("admin:takedown_infringingurl_export"), {"platform__id__exact": platforms["youtube"].pk}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["normalized_url"] for r in rows] == [
        "https://www.youtube.com/watch?v=keep0000001",
        "https://www.youtube.com/watch?v=keep0000002",
    ]
    assert rows[0]["note"] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[1]["note"] == "'@SUM(1)"
    everything = b"".join(
        client.get(reverse("admin:takedown_infringingurl_export")).streaming_content
    ).decode()
    assert "t.me/chan/5" in everything and "'+1 -1" in everything
    assert "theirs" not in everything
