"""A case's evidence dossier: one ZIP a law firm or an investigator can take and check.

    report.pdf        the report (Korean or English), signed with the agency's certificate;
                      it embeds files.json, the SHA-256 of every other file, under the signature
    notices/*.pdf     every frozen notice PDF that named a URL of the case, byte for byte
    data.csv          one row per URL and check
    data.json         the same data, with the notices and the case's timeline
    chain.json        the hash-chain entries that cover the case's checks, notices and events
    certificate.pem   the certificate that signed the report
    manifest.json     the SHA-256 of every file, and the chain's head at export

Metadata and hashes only: no image or video enters a dossier (checks never stored any).

Built in chunks of URLs: the CSV, JSON and chain files are spooled to disk as they are written,
so memory holds one chunk plus the report's HTML, which the PDF engine needs whole.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.utils import timezone, translation
from markupsafe import escape

from takedown import chain, localtime, signing
from takedown.cases import event_label
from takedown.choices import CaseStatus, ChainKind, URLStatus
from takedown.exporting import safe_cell
from takedown.models import (
    Case,
    CaseEvent,
    CaseURL,
    ChainEntry,
    ChainHead,
    InfringingURL,
    Notice,
    NoticeEvent,
    NoticeItem,
    URLCheck,
    User,
)

FORMAT = "takedown-dossier/1"
CHUNK = 500
REPORT = "report.pdf"
MANIFEST = "manifest.json"
CERTIFICATE = "certificate.pem"
SIGNED_LIST = "files.json"

LABELS = {
    "en": {
        "title": "Evidence dossier",
        "case": "Case",
        "agency": "Agency",
        "artists": "Artists",
        "period": "Period",
        "exported_by": "Exported by",
        "exported_at": "Exported at",
        "status": "Status",
        "owner": "Responsible legal reviewer",
        "law_firm": "Law firm's reference",
        "police": "Police reference",
        "chain_head": "Hash chain at export",
        "urls": "URLs",
        "url": "URL",
        "account": "Account",
        "platform": "Platform",
        "category": "Category",
        "first_seen": "First seen",
        "checks": "Checks (time, HTTP status, verdict, body SHA-256)",
        "notices": "Notices",
        "removal": "Time to removal",
        "still_live": "still live",
        "removed_before_notice": "removed before notice",
        "removed": "removed",
        "legally_blocked": "legally blocked (not deleted)",
        "soft_removed": "soft-removed (hidden, not deleted)",
        "restricted": "restricted (still live for some)",
        "dismissed": "dismissed (not pursued)",
        "no_checks": "no check recorded",
        "notice_list": "Notices that named these URLs",
        "notice": "Notice",
        "sent_at": "Sent",
        "reference": "Platform's reference",
        "pdf_sha256": "PDF SHA-256",
        "timeline": "Case timeline",
        "files": "Files of this dossier (SHA-256)",
        "files_note": "The list is also embedded in this PDF as files.json, under its signature.",
        "none": "none",
    },
    "ko": {
        "title": "증거 자료집",
        "case": "사건",
        "agency": "소속사",
        "artists": "아티스트",
        "period": "기간",
        "exported_by": "작성자",
        "exported_at": "작성 일시",
        "status": "상태",
        "owner": "담당 법무 검토자",
        "law_firm": "법무법인 관리번호",
        "police": "경찰 접수번호",
        "chain_head": "내보낼 때의 해시 체인",
        "urls": "URL",
        "url": "URL",
        "account": "계정",
        "platform": "플랫폼",
        "category": "유형",
        "first_seen": "최초 발견",
        "checks": "확인 기록 (일시, HTTP 상태, 판정, 본문 SHA-256)",
        "notices": "통지",
        "removal": "삭제까지 걸린 시간",
        "still_live": "게시 중",
        "removed_before_notice": "통지 전 삭제됨",
        "removed": "삭제됨",
        "legally_blocked": "법적 차단됨 (삭제 아님)",
        "soft_removed": "비공개 처리됨 (삭제 아님)",
        "restricted": "제한됨 (일부에게 계속 게시)",
        "dismissed": "기각됨 (조치하지 않음)",
        "no_checks": "확인 기록 없음",
        "notice_list": "이 URL을 기재한 통지",
        "notice": "통지",
        "sent_at": "발송",
        "reference": "플랫폼 접수번호",
        "pdf_sha256": "PDF SHA-256",
        "timeline": "사건 경과",
        "files": "자료집 파일 (SHA-256)",
        "files_note": "이 목록은 files.json으로 이 PDF에 첨부되어 서명으로 보호됩니다.",
        "none": "없음",
    },
}


def _iso(value: datetime | None) -> str | None:
    return chain._iso(value)


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z") if value else ""


def _local_iso(value: str | None) -> str:
    return _local(datetime.fromisoformat(value)) if value else ""


def _duration(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return (
        f"{hours // 24} d {hours % 24} h"
        if hours >= 24
        else f"{hours} h {int(delta.total_seconds() // 60) % 60} min"
    )


def removal_text(url: InfringingURL, labels: dict[str, str]) -> str:
    """One label per status; a time to removal only for a URL removed after its notice."""
    if url.status == URLStatus.REMOVED:
        if url.removed_at and url.notified_at:
            if url.removed_at <= url.notified_at:
                return labels["removed_before_notice"]
            return _duration(url.removed_at - url.notified_at)
        return labels["removed"]
    if url.status in (URLStatus.OPEN, URLStatus.NOTIFIED):
        return labels["still_live"]
    return labels[url.status]


class _Hashing:
    """A spooled file that hashes what is written to it."""

    def __init__(self, text: bool = True) -> None:
        self.raw = tempfile.SpooledTemporaryFile(max_size=1 << 20)
        self.sha = hashlib.sha256()

    def write(self, s: str | bytes) -> int:
        data = s.encode() if isinstance(s, str) else s
        self.sha.update(data)
        self.raw.write(data)
        return len(data)

    def into(self, zf: zipfile.ZipFile, name: str) -> str:
        self.raw.seek(0)
        with zf.open(name, "w") as dest:
            shutil.copyfileobj(self.raw, dest, 1 << 16)
        self.raw.close()
        return self.sha.hexdigest()


@dataclass
class DossierResult:
    case_id: int
    urls: int
    checks: int
    notices: int
    entries: int
    files: dict[str, str] = field(default_factory=dict)


def _url_ids(case: Case) -> Iterator[list[int]]:
    after = 0
    while True:
        ids = list(
            CaseURL.objects.filter(case=case, url_id__gt=after)
            .order_by("url_id")
            .values_list("url_id", flat=True)[:CHUNK]
        )
        if not ids:
            return
        yield ids
        after = ids[-1]


_CSV_HEADER = [
    "url_id",
    "url",
    "normalized_url",
    "artist",
    "platform",
    "account",
    "category",
    "status",
    "first_seen",
    "notified_at",
    "removed_at",
    "time_to_removal",
    "check_id",
    "checked_at",
    "http_status",
    "verdict",
    "body_sha256",
    "title",
    "notices",
]


class _Builder:
    def __init__(self, case: Case, user: User, locale: str) -> None:
        self.case = case
        self.user = user
        self.locale = locale if locale in LABELS else "en"
        self.labels = LABELS[self.locale]
        self.csv_file = _Hashing()
        self.csv = csv.writer(self.csv_file, lineterminator="\n")
        self.json_file = _Hashing()
        self.chain_file = _Hashing()
        self.rows_html: list[str] = []
        self.notices: dict[int, dict] = {}
        self.counts = {"urls": 0, "checks": 0, "entries": 0}
        self._first_url = True
        self._first_entry = True

    # -- the URLs, a chunk at a time ---------------------------------------------------------

    def chunk(self, ids: list[int]) -> None:
        urls = list(
            InfringingURL.objects.filter(pk__in=ids)
            .select_related("artist", "platform", "account", "account__platform")
            .order_by("pk")
        )
        checks: dict[int, list[dict]] = {}
        for row in (
            URLCheck.objects.filter(url_id__in=ids)
            .order_by("url_id", "checked_at", "id")
            .values(*chain.CHECK_FIELDS, "title")
        ):
            checks.setdefault(row["url_id"], []).append(row)
        named: dict[int, list[int]] = {}
        for url_id, notice_id in (
            NoticeItem.objects.filter(url_id__in=ids).order_by("notice_id").values_list("url_id", "notice_id")
        ):
            named.setdefault(url_id, []).append(notice_id)
        new = {n for ns in named.values() for n in ns} - set(self.notices)
        for n in (
            # The notices that named it to a platform: sent (a draft or a rejected one never left).
            Notice.objects.filter(pk__in=new, sent_at__isnull=False)
            .exclude(pdf_sha256="")
            .values("pk", "pdf_sha256", "reference", "sent_at", "status", "platform__name", "legal_route")
        ):
            self.notices[n["pk"]] = n
        check_ids = [c["id"] for cs in checks.values() for c in cs]
        self._entries(ChainKind.CHECK, check_ids)
        for url in urls:
            self._url(url, checks.get(url.pk, []), [n for n in named.get(url.pk, []) if n in self.notices])

    def _url(self, url: InfringingURL, checks: list[dict], notice_ids: list[int]) -> None:
        self.counts["urls"] += 1
        self.counts["checks"] += len(checks)
        account = f"{url.account.platform.slug}:{url.account.handle}" if url.account_id else ""
        removal = removal_text(url, LABELS["en"])
        notices = ";".join(f"{n}:{self.notices[n]['pdf_sha256']}" for n in notice_ids)
        base = [
            url.pk,
            url.url,
            url.normalized_url,
            url.artist.name,
            url.platform.name if url.platform_id else url.host,
            account,
            url.category,
            url.status,
            _iso(url.discovered_at),
            _iso(url.notified_at),
            _iso(url.removed_at),
            removal,
        ]
        for c in checks or [None]:
            tail = (
                [c["id"], _iso(c["checked_at"]), c["http_status"], c["verdict"], c["body_sha256"], c["title"]]
                if c
                else [""] * 6
            )
            self.csv.writerow([safe_cell(v) for v in base + tail + [notices]])  # raw in data.json
        record = {
            "id": url.pk,
            "url": url.url,
            "normalized_url": url.normalized_url,
            "artist": url.artist.name,
            "platform": url.platform.slug if url.platform_id else "",
            "host": url.host,
            "account": account,
            "category": url.category,
            "status": url.status,
            "first_seen": _iso(url.discovered_at),
            "notified_at": _iso(url.notified_at),
            "removed_at": _iso(url.removed_at),
            "time_to_removal": removal,
            "checks": [
                {
                    "id": c["id"],
                    "checked_at": _iso(c["checked_at"]),
                    "http_status": c["http_status"],
                    "final_url": c["final_url"],
                    "body_sha256": c["body_sha256"],
                    "verdict": c["verdict"],
                    "rule": c["rule"],
                    "title": c["title"],
                }
                for c in checks
            ],
            "notices": notice_ids,
        }
        self.json_file.write(("" if self._first_url else ",\n") + json.dumps(record, ensure_ascii=False))
        self._first_url = False
        self.rows_html.append(self._row_html(url, account, checks, notice_ids))

    def _row_html(self, url: InfringingURL, account: str, checks: list[dict], notice_ids: list[int]) -> str:
        lab = self.labels
        lines = (
            "".join(
                f"<div>{escape(_local(c['checked_at']))} · {c['http_status'] or '–'} · {escape(c['verdict'])}"
                f"<br><span class=h>{escape(c['body_sha256'] or '–')}</span></div>"
                for c in checks
            )
            or f"<div>{lab['no_checks']}</div>"
        )
        notices = (
            "".join(f"<div>#{n} {escape(self.notices[n]['reference'] or '')}</div>" for n in notice_ids)
            or lab["none"]
        )
        return (
            f"<tr><td><span class=u>{escape(url.url)}</span><br>{escape(account)}"
            f"<br>{escape(url.platform.name if url.platform_id else url.host)} · {escape(url.get_category_display())}</td>"
            f"<td>{escape(_local(url.discovered_at))}</td><td>{lines}</td><td>{notices}</td>"
            f"<td>{escape(removal_text(url, lab))}</td></tr>"
        )

    # -- chain entries -----------------------------------------------------------------------

    def _entries(self, kind: str, object_ids: list[int]) -> None:
        for start in range(0, len(object_ids), 1000):
            part = object_ids[start : start + 1000]
            for e in ChainEntry.objects.filter(
                agency_id=self.case.agency_id, kind=kind, object_id__in=part
            ).order_by("seq"):
                item = {
                    "seq": e.seq,
                    "kind": e.kind,
                    "object_id": e.object_id,
                    "content": e.content,
                    "content_sha256": e.content_sha256,
                    "prev_sha256": e.prev_sha256,
                    "entry_sha256": e.entry_sha256,
                }
                self.chain_file.write(
                    ("" if self._first_entry else ",\n") + json.dumps(item, ensure_ascii=False)
                )
                self._first_entry = False
                self.counts["entries"] += 1


def _case_summary(case: Case, user: User, now: datetime, head: ChainHead | None) -> dict:
    from takedown.cases import case_period

    first, last = case_period(case)
    return {
        "id": case.pk,
        "title": case.title,
        "agency": case.agency.name,
        "status": case.status,
        "artists": sorted(case.artists.values_list("name", flat=True)),
        "legal_owner": case.legal_owner.get_full_name() or case.legal_owner.username
        if case.legal_owner
        else "",
        "law_firm_reference": case.law_firm_reference,
        "police_reference": case.police_reference,
        "period": [_iso(first), _iso(last)],
        "exported_by": user.get_full_name() or user.username,
        "exported_at": _iso(now),
        "chain_head": {"seq": head.seq, "sha256": head.head_sha256} if head else None,
    }


_CSS = """
@font-face { font-family: "Notice Sans"; src: url(fonts/NanumGothic.ttf); font-weight: normal; }
@font-face { font-family: "Notice Sans"; src: url(fonts/NanumGothicBold.ttf); font-weight: bold; }
@page { size: A4 landscape; margin: 14mm 12mm; @bottom-right { content: counter(page) " / " counter(pages); font-size: 7pt; } }
body { font-family: "Notice Sans", sans-serif; font-size: 8pt; }
h1 { font-size: 16pt; } h2 { font-size: 11pt; margin-top: 14pt; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
td, th { border: 0.5pt solid #999; padding: 2pt 3pt; vertical-align: top; text-align: left; }
.u, .h { overflow-wrap: anywhere; font-size: 6.5pt; }
.cover td:first-child { width: 30%; font-weight: bold; }
"""


def _report_html(b: _Builder, summary: dict, timeline: list[dict], files: dict[str, str]) -> str:
    lab = b.labels
    e = escape
    head = summary["chain_head"]
    cover = [
        (lab["case"], f"#{summary['id']} {summary['title']}"),
        (lab["agency"], summary["agency"]),
        (lab["artists"], ", ".join(summary["artists"])),
        (lab["period"], " – ".join(_local_iso(p) for p in summary["period"])),
        (lab["status"], str(CaseStatus(summary["status"]).label)),
        (lab["owner"], summary["legal_owner"]),
        (lab["law_firm"], summary["law_firm_reference"]),
        (lab["police"], summary["police_reference"]),
        (lab["exported_by"], summary["exported_by"]),
        (lab["exported_at"], _local_iso(summary["exported_at"])),
        (lab["chain_head"], f"{head['seq']} · {head['sha256']}" if head else lab["none"]),
        (lab["urls"], str(b.counts["urls"])),
    ]
    notices = "".join(
        f"<tr><td>#{n['pk']} {e(n['platform__name'])}</td><td>{e(_local(n['sent_at']))}</td>"
        f"<td>{e(n['reference'])}</td><td class=h>{e(n['pdf_sha256'])}</td></tr>"
        for n in sorted(b.notices.values(), key=lambda n: n["pk"])
    )
    events = "".join(
        f"<tr><td>{e(_local_iso(t['at']))}</td><td>{e(event_label(t['kind']))}</td><td>{e(t['actor'])}</td>"
        f"<td>{e(t['detail'])}</td></tr>"
        for t in timeline
    )
    file_rows = "".join(
        f"<tr><td>{e(name)}</td><td class=h>{sha}</td></tr>" for name, sha in sorted(files.items())
    )
    return (
        f"<!doctype html><html lang={b.locale}><head><meta charset=utf-8><title>{e(lab['title'])} #{summary['id']}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>{e(lab['title'])}</h1><table class=cover>"
        + "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in cover)
        + f"</table><h2>{e(lab['urls'])}</h2><table><colgroup><col style='width:28%'><col style='width:10%'>"
        "<col style='width:38%'><col style='width:14%'><col style='width:10%'></colgroup>"
        f"<tr><th>{e(lab['url'])} / {e(lab['account'])} / {e(lab['platform'])} / {e(lab['category'])}</th>"
        f"<th>{e(lab['first_seen'])}</th><th>{e(lab['checks'])}</th><th>{e(lab['notices'])}</th>"
        f"<th>{e(lab['removal'])}</th></tr>"
        + "".join(b.rows_html)
        + f"</table><h2>{e(lab['notice_list'])}</h2><table><tr><th>{e(lab['notice'])}</th><th>{e(lab['sent_at'])}</th>"
        f"<th>{e(lab['reference'])}</th><th>{e(lab['pdf_sha256'])}</th></tr>{notices}</table>"
        f"<h2>{e(lab['timeline'])}</h2><table>{events}</table>"
        f"<h2>{e(lab['files'])}</h2><p>{e(lab['files_note'])}</p><table>{file_rows}</table>"
        "</body></html>"
    )


def _render(html: str) -> bytes:
    from takedown.rendering import worker
    from takedown.rendering.worker import PdfLimits

    limits = PdfLimits(
        timeout_seconds=float(settings.TAKEDOWN_DOSSIER_PDF_TIMEOUT_SECONDS),
        memory_mb=settings.TAKEDOWN_DOSSIER_PDF_MEMORY_MB,
        max_pages=settings.TAKEDOWN_DOSSIER_PDF_MAX_PAGES,
        workers=settings.TAKEDOWN_PDF_WORKERS,
    )
    pdf, _warnings = worker.pool().render(html, limits)
    return pdf


def canonical_manifest(manifest: dict) -> bytes:
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def dossier_write(
    *,
    case: Case,
    user: User,
    out: IO[bytes],
    locale: str = "en",
    progress: Callable[[int], None] | None = None,
) -> DossierResult:
    """Write the case's dossier as a ZIP into `out`, its report in `locale` (en, ko).

    Raises errors.Invalid without a certificate (before anything is written)."""
    locale = locale if locale in LABELS else "en"
    # The report reads in the agency's own time zone wherever it is written (a worker keeps the
    # server's); the data files keep UTC.
    zone = localtime.zone_of(case.agency) or timezone.get_current_timezone()
    with translation.override(locale), timezone.override(zone):
        return _write(case=case, user=user, out=out, locale=locale, progress=progress)


def _write(
    *, case: Case, user: User, out: IO[bytes], locale: str, progress: Callable[[int], None] | None
) -> DossierResult:
    cert = signing.certificate_pem(case.agency.slug)  # before any work: no certificate, no dossier
    now = timezone.now()
    head = ChainHead.objects.filter(agency_id=case.agency_id).first()
    summary = _case_summary(case, user, now, head)
    b = _Builder(case, user, locale)
    b.csv.writerow(_CSV_HEADER)
    b.json_file.write(
        json.dumps({"format": FORMAT, "case": summary}, ensure_ascii=False)[:-1] + ',\n"urls": [\n'
    )
    b.chain_file.write("[\n")
    done = 0
    for ids in _url_ids(case):
        b.chunk(ids)
        done += len(ids)
        if progress:
            progress(done)
    events = list(NoticeEvent.objects.filter(notice_id__in=list(b.notices)).values_list("pk", flat=True))
    b._entries(ChainKind.NOTICE_EVENT, events)
    timeline = [
        {
            "id": ev.pk,
            "at": _iso(ev.at),
            "kind": ev.kind,
            "actor": (ev.actor.get_full_name() or ev.actor.username) if ev.actor else "",
            "detail": ev.detail,
            "data": ev.data,
        }
        for ev in CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "id")
    ]
    b._entries(ChainKind.CASE_EVENT, [t["id"] for t in timeline])
    notices = [
        {**{k: v for k, v in n.items() if k != "pk"}, "id": n["pk"], "sent_at": _iso(n["sent_at"])}
        for n in sorted(b.notices.values(), key=lambda n: n["pk"])
    ]
    b.json_file.write(
        '\n],\n"notices": '
        + json.dumps(notices, ensure_ascii=False)
        + ',\n"timeline": '
        + json.dumps(timeline, ensure_ascii=False)
        + "}\n"
    )
    b.chain_file.write("\n]\n")
    files: dict[str, str] = {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        files["data.csv"] = b.csv_file.into(zf, "data.csv")
        files["data.json"] = b.json_file.into(zf, "data.json")
        files["chain.json"] = b.chain_file.into(zf, "chain.json")
        for pk in sorted(b.notices):
            pdf = Notice.objects.filter(pk=pk).values_list("pdf", flat=True).first()
            if pdf is None:
                continue
            name = f"notices/notice-{pk}.pdf"
            zf.writestr(name, bytes(pdf))
            files[name] = hashlib.sha256(pdf).hexdigest()
        zf.writestr(CERTIFICATE, cert)
        files[CERTIFICATE] = hashlib.sha256(cert).hexdigest()
        chain_info = {
            "entries": b.counts["entries"],
            "head_seq": head.seq if head else 0,
            "head_sha256": head.head_sha256 if head else chain.GENESIS,
        }
        signed_list = {"format": FORMAT, "case": case.pk, "files": files, "chain": chain_info}
        html = _report_html(b, summary, timeline, files)
        del b.rows_html
        pdf = signing.sign_pdf(
            _render(html),
            agency_slug=case.agency.slug,
            reason=f"Evidence dossier of case #{case.pk}",
            attachments={SIGNED_LIST: canonical_manifest(signed_list)},
        )
        del html
        zf.writestr(REPORT, pdf)
        manifest = {
            "format": FORMAT,
            "case": case.pk,
            "agency": case.agency.slug,
            "exported_at": summary["exported_at"],
            "exported_by": summary["exported_by"],
            "locale": b.locale,
            "files": {**files, REPORT: hashlib.sha256(pdf).hexdigest()},
            "chain": chain_info,
        }
        zf.writestr(MANIFEST, canonical_manifest(manifest))
    return DossierResult(
        case_id=case.pk,
        urls=b.counts["urls"],
        checks=b.counts["checks"],
        notices=len(b.notices),
        entries=b.counts["entries"],
        files=manifest["files"],
    )


def dossier_bytes(*, case: Case, user: User, locale: str = "en") -> bytes:
    buf = io.BytesIO()
    dossier_write(case=case, user=user, out=buf, locale=locale)
    return buf.getvalue()
