"""Korean everywhere: every admin page reads Korean to a Korean browser, and the catalogue has
a translation for every string the code and the templates mark."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from django.urls import reverse

from takedown.models import InfringingURL, Notice, NoticeEvent, NoticeTemplate, Platform

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent

# English phrases of the admin's own interface (not data: artist names, URLs, platform names,
# the codes a CSV carries). Seen on a Korean page, one of them is a string that skipped gettext.
ENGLISH = [
    "Your work", "Takedown", "Outcomes dashboard", "Per platform", "Per legal route", "Per artist",
    "Removal rate", "Median", "Other", "confirming", "Submit for legal review", "Approve", "Reject",
    "Workflow", "Upload", "Export", "Times in", "API docs", "View site", "Save and add another",
    "Delivery", "Choose the outcome", "Next step", "Filter", "Search", "Log out", "Home", "Overdue",
    "Notified", "Still live", "Drafted", "Submitted", "Legal review", "Copy", "Sample", "sample file",
    "No, go back", "deadline", "Deadline", "Status", "Category", "Platform", "Artist", "Reason",
    "of 2", " h ", " d ", " min",
]  # fmt: skip


def visible_text(html: str) -> str:
    html = re.sub(r"(?is)<(script|style|svg:title)[^>]*>.*?</\1>", " ", html)
    html = re.sub(r"(?is)<code>.*?</code>", " ", html)  # values written in a file, as they are
    # A notice's own text is in the notice's language (the packet's fields, a draft's preview).
    html = re.sub(r"(?is)<textarea[^>]*>.*?</textarea>", " ", html)
    html = re.sub(r'(?is)<div class="notice-text"[^>]*>.*?</div>', " ", html)
    # The inline rows' own titles, hidden by admin.css (they repeated the URL, "∅ → draft").
    html = re.sub(r'(?is)<td class="original">\s*<p>.*?</p>', " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", unescape(html))


def english_in(html: str, data: list[str]) -> list[str]:
    text = visible_text(html)
    for value in sorted(filter(None, data), key=len, reverse=True):  # fictional data may hold any word
        text = text.replace(value, " ")
    return [phrase for phrase in ENGLISH if phrase in text]


def test_each_admin_page_reads_korean(client, busy_agency, legal2, artist, agency):
    client.force_login(legal2)
    b = busy_agency
    pages = {
        "home": reverse("admin:index"),
        "urls": reverse("admin:takedown_infringingurl_changelist"),
        "url": reverse("admin:takedown_infringingurl_change", args=[b["urls"][0].pk]),
        "url-add": reverse("admin:takedown_infringingurl_add"),
        "upload": reverse("admin:takedown_infringingurl_upload"),
        "notices": reverse("admin:takedown_notice_changelist"),
        "draft": reverse("admin:takedown_notice_change", args=[b["draft"].pk]),
        "pending": reverse("admin:takedown_notice_change", args=[b["pending"].pk]),
        "sent": reverse("admin:takedown_notice_change", args=[b["sent"].pk]),
        "queue": reverse("admin:takedown_notice_queue"),
        "packet": reverse("admin:takedown_notice_packet", args=[b["sent"].pk]),
        "dashboard": reverse("admin:dashboard"),
    }
    data = [artist.name, str(artist), agency.name, "YouTube", "Telegram", legal2.username, "staff", "legal"]
    data += [u.normalized_url for u in InfringingURL.objects.all()]
    data += [str(t) for t in NoticeTemplate.objects.all()] + list(
        Platform.objects.values_list("name", flat=True)
    )
    # What the services wrote on the timeline and the legal basis of a deadline are records,
    # kept in the words they were written in.
    data += list(NoticeEvent.objects.values_list("reason", flat=True))
    data += [n.deadline_basis for n in Notice.objects.all()]
    found = {}
    for name, url in pages.items():
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ko")
        assert response.status_code == 200, name
        assert 'lang="ko"' in response.content.decode(), name
        english = english_in(response.content.decode(), data)
        if english:
            found[name] = english
    confirm = client.post(
        reverse("admin:takedown_notice_action", args=[b["sent"].pk, "close"]),
        {"outcome": "removed"},
        HTTP_ACCEPT_LANGUAGE="ko",
    )
    assert "결과" in confirm.content.decode()
    english = english_in(confirm.content.decode(), data)
    if english:
        found["confirm"] = english
    assert found == {}


def test_makemessages_leaves_nothing_untranslated_or_fuzzy(tmp_path):
    if shutil.which("msgattrib") is None or shutil.which("xgettext") is None:
        pytest.fail("gettext tools are missing: apt-get install gettext (scripts/bootstrap.sh installs them)")
    for part in ("takedown", "templates", "locale", "fixtures"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("static", "__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")

    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ko", "--no-obsolete"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )

    catalogue = tmp_path / "locale/ko/LC_MESSAGES/django.po"
    for option in ("--untranslated", "--only-fuzzy"):
        left = subprocess.run(
            ["msgattrib", option, "--no-obsolete", "--no-wrap", str(catalogue)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        entries = [line for line in left.splitlines() if line.startswith("msgid ") and line != 'msgid ""']
        assert entries == [], option
