"""PDF rendering with bounds: a wall clock, an address-space limit and a page cap, in worker
processes outside any lock, for submission, previews and template save.

The two hostile templates of the security review: a long word in a 1 mm box with
`word-break: break-all` (over 300 s of CPU per PDF before), and a loop of 10,000 pages
(140 s and 1.3 GB before).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader
from rest_framework.test import APIClient

from takedown import importing, notices, rendering
from takedown.models import InfringingURL, Notice, NoticeTemplate
from takedown.rendering import PdfLimitExceeded, PdfLimits, pipeline, worker
from takedown.rendering.pdf import _bound_message
from takedown.tokens import token_issue

ROOT = Path(__file__).resolve().parent.parent
BREAK_ALL = '<div style="width: 1mm; word-break: break-all">{{ "a"*20000 }}</div>'
TEN_THOUSAND_PAGES = '{% for i in range(10000) %}<p style="break-after: page">{{ i }}</p>{% endfor %}'
# A line of 500,000 glyphs that may not wrap: linear in time, heavy in memory.
HEAVY = '<p style="white-space: pre; overflow-wrap: normal">{{ "x"*500000 }}</p>'
FAST = PdfLimits(timeout_seconds=3, memory_mb=1024, max_pages=50, workers=2)


def pdf_of(body: str, limits: PdfLimits | None = None, lang: str = "en") -> bytes:
    rendered = rendering.render_notice("Subject", body, rendering.SAMPLE_CONTEXT)
    return rendering.render_pdf(rendered, title="t", author="a", lang=lang, limits=limits)


def timed(func, *args, **kwargs):
    started = time.monotonic()
    try:
        return func(*args, **kwargs), time.monotonic() - started
    except Exception as exc:
        return exc, time.monotonic() - started


def default_body(route: str, locale: str = "en") -> tuple[str, str]:
    template = next(t for t in rendering.load_default_templates() if (t.route, t.locale) == (route, locale))
    return template.subject, template.body


# -- the bounds, rendering directly ------------------------------------------------------


def test_it_stops_the_break_all_template_at_the_wall_clock():
    error, elapsed = timed(pdf_of, BREAK_ALL, FAST)

    assert isinstance(error, PdfLimitExceeded), error
    assert error.bound == "time"
    assert str(error) == "the PDF took longer than 3 s to render"
    assert elapsed < 15  # 3 s of rendering, plus starting a worker on a busy machine


def test_it_stops_the_ten_thousand_page_template_at_the_page_cap():
    error, elapsed = timed(pdf_of, TEN_THOUSAND_PAGES, PdfLimits(timeout_seconds=60, max_pages=50))

    assert isinstance(error, PdfLimitExceeded), error
    assert error.bound == "pages"
    assert str(error) == "the PDF would have more than 50 pages"
    assert elapsed < 20  # stopped at page 51 while laying out, not after 10,000


def test_it_stops_a_render_that_needs_more_memory_than_allowed():
    limits = PdfLimits(timeout_seconds=60, memory_mb=160, max_pages=50, workers=1)

    error, elapsed = timed(pdf_of, HEAVY, limits)

    assert isinstance(error, PdfLimitExceeded), error
    assert error.bound == "memory"
    assert str(error) == "the PDF needed more than 160 MB of memory to render"
    assert elapsed < 30
    # The same document renders with room to spare; so does the next one under the
    # small limit, in a fresh worker.
    assert len(PdfReader(io.BytesIO(pdf_of("<p>after</p>", limits))).pages) == 1


def test_it_states_a_gigabyte_bound_in_gigabytes():
    limits = PdfLimits(memory_mb=1024)

    assert _bound_message("memory", limits) == "the PDF needed more than 1 GB of memory to render"


def test_it_names_the_bound_in_korean():
    with translation.override("ko"):
        assert _bound_message("pages", PdfLimits(max_pages=200)) == "PDF가 200쪽을 넘습니다"
        assert _bound_message("time", PdfLimits(timeout_seconds=30)) == ("PDF 생성 시간이 30초를 넘었습니다")


def test_it_renders_the_pages_under_the_cap():
    body = '{% for i in range(3) %}<p style="break-after: page">page {{ i }}</p>{% endfor %}'

    assert len(PdfReader(io.BytesIO(pdf_of(body, PdfLimits(max_pages=3)))).pages) == 3
    with pytest.raises(PdfLimitExceeded, match="more than 2 pages"):
        pdf_of(body, PdfLimits(max_pages=2))


def test_it_renders_the_same_bytes_after_a_worker_was_killed_and_in_a_fresh_pool():
    body = "<h1>Notice</h1><p>https://example.net/watch?v=1 이하나</p>"
    first = pdf_of(body, FAST)
    with pytest.raises(PdfLimitExceeded):
        pdf_of(BREAK_ALL, FAST)

    again = pdf_of(body, FAST)
    worker.pool().close()
    fresh = pdf_of(body, FAST)

    assert first == again == fresh


def test_it_renders_while_another_render_is_stuck():
    # No process-wide lock: one hostile template does not hold up everyone else.
    limits = PdfLimits(timeout_seconds=12, memory_mb=1024, max_pages=50, workers=2)
    pdf_of("<p>warm</p>", limits)  # one worker started
    stuck: dict = {}

    def hostile() -> None:
        stuck["error"], stuck["elapsed"] = timed(pdf_of, BREAK_ALL, limits)
        stuck["finished"] = time.monotonic()

    thread = threading.Thread(target=hostile)
    thread.start()
    time.sleep(0.5)
    pdf = pdf_of("<p>meanwhile</p>", limits)
    done = time.monotonic()
    thread.join()

    assert pdf.startswith(b"%PDF-")
    assert isinstance(stuck["error"], PdfLimitExceeded) and stuck["error"].bound == "time"
    assert done < stuck["finished"] - 1


def test_it_limits_the_address_space_of_its_workers():
    limits = PdfLimits(timeout_seconds=30, memory_mb=700, max_pages=50, workers=1)
    pdf_of("<p>x</p>", limits)

    (pid,) = [pid for pid in worker.pool().worker_pids() if _address_limit(pid) == 700 * 1024 * 1024]

    assert pid != os.getpid()


def _address_limit(pid: int) -> int | None:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max address space"):
            return int(line.split()[3])
    return None


def test_it_leaves_no_worker_behind_when_the_server_process_dies(tmp_path):
    script = (
        "import os, sys, signal\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from takedown import rendering\n"
        "from takedown.rendering import worker\n"
        "rendered = rendering.render_notice('s', '<p>x</p>', rendering.SAMPLE_CONTEXT)\n"
        "rendering.render_pdf(rendered, title='t', author='a', lang='en')\n"
        "print(*worker.pool().worker_pids(), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    (worker_pid,) = [int(pid) for pid in result.stdout.split()]

    deadline = time.monotonic() + 10
    while _running(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.1)

    assert not _running(worker_pid)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_it_gives_a_forked_process_its_own_workers():
    # django-q2 forks its task workers: a child must not talk to its parent's workers.
    pdf_of("<p>parent</p>", FAST)
    parent_workers = set(worker.pool().worker_pids())
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            pdf = pdf_of("<p>child</p>", FAST)
            own = set(worker.pool().worker_pids())
            os.write(write_end, b"ok" if pdf.startswith(b"%PDF-") and not own & parent_workers else b"bad")
        finally:
            os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 10)
    os.waitpid(child, 0)
    os.close(read_end)

    assert answer == b"ok"
    assert set(worker.pool().worker_pids()) == parent_workers
    assert pdf_of("<p>parent again</p>", FAST).startswith(b"%PDF-")


def test_it_replays_the_workers_warnings_in_the_calling_thread():
    with rendering.pdf_warnings() as warnings:
        pdf_of('<img src="https://example.net/x.png"><p>\U0010fffd</p>', FAST)

    assert any("refused" in message for message in warnings)
    assert rendering.missing_glyphs(warnings)


# -- template save -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hostile", "setting", "message"),
    [
        (BREAK_ALL, {"TAKEDOWN_PDF_TIMEOUT_SECONDS": 3}, "took longer than 3 s"),
        (TEN_THOUSAND_PAGES, {"TAKEDOWN_PDF_MAX_PAGES": 50}, "more than 50 pages"),
    ],
    ids=["break-all", "ten-thousand-pages"],
)
def test_it_refuses_to_save_a_template_whose_sample_pdf_exceeds_a_bound(
    legal, templates, settings, hostile, setting, message
):
    for name, value in setting.items():
        setattr(settings, name, value)
    subject, body = default_body("dsa")
    before = NoticeTemplate.objects.count()

    error, elapsed = timed(
        notices.template_save,
        user=legal,
        base=None,
        name="hostile",
        legal_route="dsa",
        locale="en",
        platform_id=None,
        subject=subject,
        body=body + hostile,
    )

    assert isinstance(error, PdfLimitExceeded), error
    assert str(error).startswith("Body: the PDF ") and message in str(error), str(error)
    assert str(error).endswith("(with the sample data)")
    assert elapsed < 25
    assert NoticeTemplate.objects.count() == before


def test_it_refuses_the_bare_break_all_template_without_a_route():
    error, elapsed = timed(rendering.validate_template, "s", BREAK_ALL, limits=FAST)

    assert isinstance(error, PdfLimitExceeded) and error.bound == "time", error
    assert elapsed < 15


def test_it_still_saves_the_default_templates(legal, templates):
    subject, body = default_body("kr_tba_22_5", "ko")

    saved = notices.template_save(
        user=legal,
        base=None,
        name="ko",
        legal_route="kr_tba_22_5",
        locale="ko",
        platform_id=None,
        subject=subject,
        body=body,
    )

    # The agency's own first version of the route; the shipped default is left as it is.
    assert saved.is_active and saved.version == 1 and saved.agency_id == legal.agency_id


# -- submission and preview: a clear message, never a 500 --------------------------------


@pytest.fixture
def hostile_draft(staff, agency, artist, platforms, templates):
    importing.import_rows(
        [{"url": u, "category": "synthetic_sexual"} for u in ("https://t.me/leakchan/101",)],
        agency=agency,
        artist=artist,
    )
    # A template stored before the bounds existed.
    for template in NoticeTemplate.objects.all():
        template.body += TEN_THOUSAND_PAGES
        template.save(update_fields=["body"])
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=InfringingURL.objects.get().artist_id)
    return notice


def test_it_answers_400_naming_the_bound_when_a_submission_exceeds_it(staff, hostile_draft, settings):
    settings.TAKEDOWN_PDF_MAX_PAGES = 40
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=staff).key}")

    response = client.post(f"/api/v1/notices/{hostile_draft.pk}/submit/")

    assert response.status_code == 400, response.content
    assert response.json()["detail"] == (
        "The notice template cannot render this notice: the PDF would have more than 40 pages"
    )
    assert Notice.objects.get(pk=hostile_draft.pk).status == "draft"
    assert not Notice.objects.get(pk=hostile_draft.pk).pdf_sha256


def test_it_answers_the_admin_preview_with_the_bound(client, staff, hostile_draft, settings):
    settings.TAKEDOWN_PDF_MAX_PAGES = 40
    client.force_login(staff)

    response = client.get(reverse("admin:takedown_notice_preview_pdf", args=[hostile_draft.pk]))

    assert response.status_code == 400
    assert response.content.decode() == "the PDF would have more than 40 pages"


def test_it_shows_the_bound_when_submitting_from_the_admin(client, staff, hostile_draft, settings):
    settings.TAKEDOWN_PDF_MAX_PAGES = 40
    client.force_login(staff)

    response = client.post(
        reverse("admin:takedown_notice_action", args=[hostile_draft.pk, "submit"]),
        {"confirm": "yes"},
        follow=True,
    )

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert "the PDF would have more than 40 pages" in messages
    assert Notice.objects.get(pk=hostile_draft.pk).status == "draft"


def test_it_stops_start_up_on_a_malformed_bound(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "TAKEDOWN_PDF_TIMEOUT_SECONDS": "20s", "TAKEDOWN_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "TAKEDOWN_PDF_TIMEOUT_SECONDS='20s' is not an integer" in result.stderr


def test_it_reads_the_bounds_from_settings(settings):
    settings.TAKEDOWN_PDF_TIMEOUT_SECONDS = 7
    settings.TAKEDOWN_PDF_MEMORY_MB = 900
    settings.TAKEDOWN_PDF_MAX_PAGES = 12
    settings.TAKEDOWN_PDF_WORKERS = 3

    assert rendering.pdf_limits() == PdfLimits(timeout_seconds=7, memory_mb=900, max_pages=12, workers=3)


def test_it_renders_the_sample_pdf_once_when_the_same_source_is_checked_twice(monkeypatch):
    # The admin's form check and template_save validate one source in one request.
    subject, body = default_body("dsa", "en")
    calls = []
    real = pipeline.render_pdf
    monkeypatch.setattr(pipeline, "render_pdf", lambda *a, **k: calls.append(1) or real(*a, **k))
    rendering.validate_template(subject, body + "<p>once</p>", route="dsa", locale="en")
    rendering.validate_template(subject, body + "<p>once</p>", route="dsa", locale="en")
    assert len(calls) == 1
    rendering.validate_template(subject, body + "<p>twice</p>", route="dsa", locale="en")
    assert len(calls) == 2
