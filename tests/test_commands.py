"""The management commands: import_urls, load_demo, setup."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from takedown.models import Agency, Artist, InfringingURL, Platform, User

pytestmark = pytest.mark.django_db


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_a_csv_file_with_a_progress_bar(tmp_path, artist, platforms):
    path = tmp_path / "urls.csv"
    lines = ["url,category"] + [
        f"https://www.youtube.com/watch?v=vid{i:08d},synthetic_sexual" for i in range(2500)
    ]
    lines.append("http://0x7f.1/,synthetic_sexual")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    out, err = _run("import_urls", str(path), "--artist", "luna-kang")
    assert "2500 created, 0 duplicates, 1 rejected" in out
    assert "row 2501 (url)" in err
    assert "2501/2501 rows 100%" in err
    assert InfringingURL.objects.filter(source="cli").count() == 2500
    out, _ = _run("import_urls", str(path), "--artist", "luna-kang", "--no-progress")
    assert "0 created, 2500 duplicates, 1 rejected" in out


def test_it_stores_nothing_with_atomic_when_a_row_is_bad(tmp_path, artist, platforms):
    path = tmp_path / "urls.csv"
    path.write_text("url,category\nhttps://example.com/a,copyright\nfile:///etc/passwd,copyright\n")
    with pytest.raises(CommandError, match="aborted"):
        _run("import_urls", str(path), "--artist", "luna-kang", "--atomic", "--no-progress")
    assert not InfringingURL.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv", "--artist", "luna-kang"], "Cannot read"),
        (["{csv}", "--artist", "nobody"], "No artist"),
        (["{csv}", "--agency", "nope", "--artist", "luna-kang"], "No agency"),
    ],
)
def test_it_explains_bad_arguments(tmp_path, artist, args, message):
    path = tmp_path / "urls.csv"
    path.write_text("url,category\nhttps://example.com/a,copyright\n")
    args = [a.replace("{csv}", str(path)) for a in args]
    with pytest.raises(CommandError, match=message):
        _run("import_urls", *args)


def test_it_asks_for_the_agency_when_an_artist_slug_is_ambiguous(tmp_path, artist, other_agency):
    Artist.objects.create(agency=other_agency, name="Luna Kang", slug="luna-kang")
    path = tmp_path / "urls.csv"
    path.write_text("url,category\nhttps://example.com/a,copyright\n")
    with pytest.raises(CommandError, match="--agency"):
        _run("import_urls", str(path), "--artist", "luna-kang")
    out, _ = _run("import_urls", str(path), "--artist", "luna-kang", "--agency", "comet", "--no-progress")
    assert "1 created" in out
    assert InfringingURL.objects.get().artist.agency == other_agency


def test_it_sets_up_the_demo_once_and_prints_passwords_once():
    out, _ = _run("setup", "--demo")
    assert "Platform registry:" in out
    assert Platform.objects.count() >= 15
    agency = Agency.objects.get(slug="starlight")
    assert agency.artists.count() == 3
    assert 45 <= InfringingURL.objects.filter(artist__agency=agency).count() <= 60
    assert "2 refused" in out
    demo_urls = InfringingURL.objects.filter(artist__agency=agency)
    assert not demo_urls.filter(next_check_at__isnull=False).exists()  # invented URLs are never probed
    assert demo_urls.filter(status="removed").exists() and demo_urls.filter(status="notified").exists()
    users = {u.username: u for u in User.objects.filter(agency=agency)}
    assert {u.role for u in users.values()} == {"staff", "legal", "manager", "api"}
    line = next(li for li in out.splitlines() if li.strip().startswith("demo-legal"))
    password = line.split()[-1]
    assert users["demo-legal"].check_password(password)

    again, _ = _run("setup", "--demo")
    assert "Demo users exist already" in again
    assert password not in again
    assert Agency.objects.filter(slug="starlight").count() == 1
    assert User.objects.filter(agency=agency).count() == 4


def test_it_keeps_platform_corrections_made_in_the_admin():
    _run("setup")
    yt = Platform.objects.get(slug="youtube")
    yt.notes = "corrected by staff"
    yt.save()
    _run("setup")
    yt.refresh_from_db()
    assert yt.notes == "corrected by staff"
    _run("setup", "--update-platforms")
    yt.refresh_from_db()
    assert yt.notes != "corrected by staff"


def test_it_says_plainly_when_the_database_cannot_be_reached(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "urls.csv"
    path.write_text("url,category\nhttps://t.me/leakchan/1,synthetic_sexual\n")
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/takedown"}  # nothing listens
    done = subprocess.run(
        [sys.executable, "manage.py", "import_urls", str(path), "--artist", "luna-kang", "--no-progress"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "The database could not be reached or went away" in done.stderr
    assert "run the same command again" in done.stderr and "Traceback" not in done.stderr
