"""The admin's pages as people use them all day: the agency's time zone, the dashboard's
filters and export, the upload page, the URL list's columns, the home page's small things."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from takedown.models import InfringingURL
from tests.notices_setup import import_urls

pytestmark = pytest.mark.django_db


# -- time zone ----------------------------------------------------------------------------------


def test_it_shows_every_time_in_the_agencys_zone(client, agency, staff, artist, platforms):
    (url,) = import_urls(agency, artist, ["https://t.me/leakchan/1"])
    InfringingURL.objects.filter(pk=url.pk).update(discovered_at=datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    client.force_login(staff)
    page = reverse("admin:takedown_infringingurl_change", args=[url.pk])

    seoul = client.get(page).content.decode()
    agency.time_zone = "Europe/Berlin"
    agency.save()
    berlin = client.get(page).content.decode()

    assert 'value="2026-03-02"' in seoul and 'value="05:00:00"' in seoul  # UTC+9: the next morning
    assert 'value="2026-03-01"' in berlin and 'value="21:00:00"' in berlin  # UTC+1: the same evening
    assert "Times in Asia/Seoul" in seoul and "Times in Europe/Berlin" in berlin


def test_it_refuses_a_time_zone_it_does_not_know(agency):
    agency.time_zone = "Mars/Olympus_Mons"
    with pytest.raises(ValidationError) as refused:
        agency.full_clean()
    assert "is not a time zone name" in str(refused.value)


# -- dashboard ----------------------------------------------------------------------------------


@pytest.fixture
def two_platforms(agency, artist, platforms):
    return import_urls(
        agency, artist, ["https://t.me/leakchan/1", "https://t.me/leakchan/2", "https://youtu.be/abcDEF12345"]
    )


def test_the_dashboard_filters_figures_and_keeps_them_in_the_export_link(client, manager, two_platforms):
    from takedown.models import Platform

    telegram = Platform.objects.get(slug="telegram")
    client.force_login(manager)

    page = client.get(reverse("admin:dashboard"), {"platform": telegram.pk, "since": "2020-01-01"})

    body = page.content.decode()
    assert page.context["figures"]["overall"]["urls"] == 2
    assert f"platform={telegram.pk}" in page.context["export_query"] and "since=2020-01-01" in body
    export = client.get(reverse("admin:dashboard_export") + "?" + page.context["export_query"])
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][0] == "# filters" and f"platform={telegram.pk}" in rows[0][1]
    overall = next(r for r in rows if r[0] == "overall")
    assert overall[2] == "2"
    assert [r[1] for r in rows if r[0] == "platform"] == ["Telegram"]


def test_the_dashboard_says_what_it_could_not_read_and_still_answers(client, manager, two_platforms):
    client.force_login(manager)

    page = client.get(
        reverse("admin:dashboard"),
        {
            "since": "yesterday",
            "artist": "999999",
            "platform": "x'",
            "route": "<script>",
            "until": "2026-02-30",
        },
    )

    assert page.status_code == 200
    errors = " ".join(page.context["filter_errors"])
    assert "yesterday" in errors and "999999" in errors and "2026-02-30" in errors
    assert "&lt;script&gt;" in page.content.decode() and "<script>;" not in page.content.decode()
    assert page.context["figures"]["overall"]["urls"] == 3  # nothing was narrowed


def test_an_artist_of_another_agency_is_not_a_filter(client, manager, two_platforms, other_artist):
    client.force_login(manager)
    page = client.get(reverse("admin:dashboard"), {"artist": other_artist.pk})
    assert page.context["filter_errors"] and page.context["figures"]["overall"]["urls"] == 3


def test_durations_read_the_same_in_every_place(settings):
    from django.utils import translation

    from takedown.admin.display import duration

    assert [duration(s) for s in (None, 30, 600, 3600 * 5.25, 86400 * 16.6)] == [
        "–",
        "< 1 min",
        "10 min",
        "5.2 h",
        "16.6 d",
    ]
    with translation.override("ko"):
        assert duration(3600 * 5.25) == "5.2시간" and duration(86400 * 3) == "3.0일"


def test_the_charts_text_is_at_least_12_px():
    import re

    from takedown import charts

    svg = charts.weekly_bars(["01-05"], {"a": [1]}, title="t") + charts.horizontal_bars(
        [("x", 1.0, "1")], title="t"
    )
    sizes = {int(s) for s in re.findall(r'font-size="(\d+)"', svg)}
    assert sizes and min(sizes) >= 12
    assert 'width="640"' in svg  # drawn at its own size, not stretched and shrunk with its box


# -- upload and the URL list --------------------------------------------------------------------


def test_the_upload_page_names_categories_and_offers_a_sample(client, staff, artist, platforms):
    client.force_login(staff)
    page = client.get(reverse("admin:takedown_infringingurl_upload")).content.decode()
    assert "Synthetic sexual imagery (deepfake)" in page and "<code>synthetic_sexual</code>" in page
    sample = client.get(reverse("admin:takedown_infringingurl_upload_sample"))
    rows = list(csv.DictReader(io.StringIO(sample.content.decode("utf-8-sig"))))
    assert rows and {"url", "category"} <= set(rows[0])


def test_the_upload_result_leads_to_exactly_the_rows_it_created(
    client, staff, legal, agency, artist, platforms
):
    import_urls(agency, artist, ["https://t.me/leakchan/1"])  # there before
    client.force_login(staff)
    upload = io.BytesIO(b"url,category\nhttps://t.me/leakchan/2,synthetic_sexual\nnot a url,x\n")
    upload.name = "urls.csv"

    page = client.post(reverse("admin:takedown_infringingurl_upload"), {"artist": artist.pk, "file": upload})

    link = page.context["uploaded_url"]
    assert "upload=" in link
    listed = client.get(link)
    assert [u.normalized_url for u in listed.context["cl"].result_list] == ["https://t.me/leakchan/2"]
    # Someone else following the link sees none of it: the link is the uploader's own rows.
    client.force_login(legal)
    assert list(client.get(link).context["cl"].result_list) == []


def test_the_url_list_cuts_long_urls_in_the_middle_and_offers_a_copy(
    client, staff, agency, artist, platforms
):
    long = "https://videos.example-hosting.net/watch/" + "x" * 60 + "/clip-0042"
    import_urls(agency, artist, [long])
    client.force_login(staff)
    body = client.get(reverse("admin:takedown_infringingurl_changelist")).content.decode()
    (url,) = InfringingURL.objects.all()
    assert f'title="{url.normalized_url}"' in body and f'data-copy="{url.normalized_url}"' in body
    assert url.normalized_url[:30] + "…" + url.normalized_url[-17:] in body


# -- the home page and the small things ---------------------------------------------------------


def test_the_managers_home_explains_tokens_and_links_the_api_docs(client, manager, staff):
    client.force_login(manager)
    home = client.get(reverse("admin:index")).content.decode()
    assert 'id="api-access"' in home and 'href="/api/docs/"' in home
    assert "View site" not in home
    assert 'rel="icon"' in home
    client.force_login(staff)
    assert 'id="api-access"' not in client.get(reverse("admin:index")).content.decode()


def test_the_favicon_is_found(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("takedown/favicon.svg")
