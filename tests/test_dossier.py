"""The evidence dossier: export, verify, and every changed byte caught."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from takedown import cases, dossier
from takedown.dossier_verify import verify_dossier

pytestmark = pytest.mark.django_db


def test_it_exports_a_dossier_that_verifies(built_case, legal):
    case, notice = built_case
    cases.case_take(user=legal, case_id=case.pk)
    data = dossier.dossier_bytes(case=case, user=legal, locale="ko")
    check = verify_dossier(data, database=True)
    assert check.ok, check.problems
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    assert {"report.pdf", "manifest.json", "data.csv", "data.json", "chain.json", "certificate.pem"} <= names
    assert f"notices/notice-{notice.pk}.pdf" in names
    assert zf.read(f"notices/notice-{notice.pk}.pdf") == bytes(notice.__class__.objects.get(pk=notice.pk).pdf)
    body = json.loads(zf.read("data.json"))
    assert len(body["urls"]) == 4
    print(check.notes)


def _rewritten(data: bytes, name: str, change) -> bytes:
    """The ZIP with member `name` replaced by change(its bytes); the rest copied as they are."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info.filename, change(body) if info.filename == name else body)
    return out.getvalue()


def _flip(body: bytes, at: int | None = None) -> bytes:
    at = len(body) // 2 if at is None else at
    return body[:at] + bytes([body[at] ^ 0x01]) + body[at + 1 :]


@pytest.fixture
def exported(built_case, legal):
    case, _notice = built_case
    cases.case_take(user=legal, case_id=case.pk)
    return dossier.dossier_bytes(case=case, user=legal, locale="en")


def test_it_catches_one_changed_byte_in_each_file_in_turn(exported):
    assert verify_dossier(exported, database=True).ok
    names = zipfile.ZipFile(io.BytesIO(exported)).namelist()
    assert len(names) == 7  # report, one notice, CSV, JSON, chain, certificate, manifest
    for name in names:
        for at in (0, None, -1):
            tampered = _rewritten(exported, name, lambda b, at=at: _flip(b, at if at != -1 else len(b) - 1))
            result = verify_dossier(tampered)
            assert not result.ok, f"a changed byte in {name} at {at} went unnoticed"


def test_it_catches_a_changed_file_whose_hash_was_changed_in_the_manifest_too(exported):
    for name in ("data.csv", "data.json", "chain.json", "certificate.pem", "report.pdf"):
        tampered = _rewritten(exported, name, _flip)
        new_sha = __import__("hashlib").sha256(zipfile.ZipFile(io.BytesIO(tampered)).read(name)).hexdigest()

        def rehash(body: bytes, name=name, new_sha=new_sha) -> bytes:
            manifest = json.loads(body)
            manifest["files"][name] = new_sha
            return dossier.canonical_manifest(manifest)

        result = verify_dossier(_rewritten(tampered, "manifest.json", rehash))
        assert not result.ok, name
        assert not any("manifest" in p and "SHA-256 does not match" in p for p in result.problems)


def test_it_refuses_a_file_added_to_the_zip_and_one_taken_out(exported):
    src = zipfile.ZipFile(io.BytesIO(exported))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != "data.csv":
                dst.writestr(info.filename, src.read(info.filename))
        dst.writestr("extra.txt", b"added later")
    problems = verify_dossier(out.getvalue()).problems
    assert "extra.txt: not in the manifest" in problems
    assert "data.csv: listed in the manifest, missing from the ZIP" in problems
    assert not verify_dossier(b"not a zip").ok


def test_it_puts_no_image_or_video_in_a_dossier_only_metadata_and_hashes(exported):
    zf = zipfile.ZipFile(io.BytesIO(exported))
    kinds = {n.rsplit(".", 1)[-1] for n in zf.namelist()}
    assert kinds <= {"pdf", "json", "csv", "pem"}
    for name in zf.namelist():
        head = zf.read(name)[:12]
        assert not head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"RIFF")) and b"ftyp" not in head


def test_it_signs_the_report_with_the_agencys_certificate_and_a_foreign_one_fails(
    exported, settings, tmp_path
):
    from takedown import signing

    zf = zipfile.ZipFile(io.BytesIO(exported))
    pdf, cert = zf.read("report.pdf"), zf.read("certificate.pem")
    good = signing.verify_pdf(pdf, cert)
    assert good.ok and good.trusted and "Starlight" in good.signer
    settings.TAKEDOWN_PRIVATE_DIR = tmp_path / "elsewhere"
    _key, other, _ = signing.create_self_signed("someone", "Someone Else")
    assert not signing.verify_pdf(pdf, other.read_bytes()).trusted
    # On this installation, a dossier whose certificate is not the agency's is refused.
    swapped = _rewritten(exported, "certificate.pem", lambda b: other.read_bytes())
    assert not verify_dossier(swapped).ok


def test_it_reports_the_case_in_the_pdf_in_korean(built_case, legal):
    from pypdf import PdfReader

    case, _notice = built_case
    data = dossier.dossier_bytes(case=case, user=legal, locale="ko")
    text = "".join(
        p.extract_text()
        for p in PdfReader(io.BytesIO(zipfile.ZipFile(io.BytesIO(data)).read("report.pdf"))).pages
    )
    assert "증거 자료집" in text and "X-TIDA-12345" in text and "게시 중" in text and "제안됨" in text
    assert case.title in text and "deepfaker99" in text


@pytest.mark.parametrize(
    "name, body",
    [
        ("manifest.json", b"[1, 2]"),
        ("chain.json", b'{"not": "a list"}'),
        ("data.json", b"null"),
        ("manifest.json", b"\xff"),
    ],
)
def test_it_refuses_hostile_members_with_a_problem_never_a_crash(exported, name, body):
    result = verify_dossier(_rewritten(exported, name, lambda _b: body))
    assert not result.ok and result.problems


def test_it_refuses_a_report_re_signed_by_an_insider_key_under_a_lookalike_certificate(
    built_case, legal, monkeypatch
):
    from takedown import signing

    case, _notice = built_case
    cases.case_take(user=legal, case_id=case.pk)
    # An insider's own key, under a certificate that copies the agency's name.
    signing.create_self_signed("insider", case.agency.name)
    genuine_sign = signing.sign_pdf
    monkeypatch.setattr(
        signing, "sign_pdf", lambda pdf, *, agency_slug, **kw: genuine_sign(pdf, agency_slug="insider", **kw)
    )
    forged = dossier.dossier_bytes(case=case, user=legal, locale="en")  # genuine certificate.pem kept
    monkeypatch.setattr(signing, "sign_pdf", genuine_sign)
    for database in (False, True):
        result = verify_dossier(forged, database=database)
        assert not result.ok, database
        assert any("not signed with the certificate" in p for p in result.problems), result.problems
    offline = verify_dossier(dossier.dossier_bytes(case=case, user=legal, locale="en"))
    assert offline.ok, offline.problems
    assert any("not checked against the installation's certificate" in n for n in offline.notes)
    assert any("SHA-256 fingerprint" in n for n in offline.notes)


@pytest.mark.parametrize("extra", ["data.csv", "/etc/data.csv", "../data.csv", "notices\\x.pdf"])
def test_it_refuses_a_duplicate_member_name_and_unsafe_paths(exported, extra):
    src = zipfile.ZipFile(io.BytesIO(exported))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        dst.writestr(extra, b"url,status\nhttps://x.example,removed\n")  # read first by some tools
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    result = verify_dossier(out.getvalue())
    assert not result.ok
    assert any("member name" in p for p in result.problems), result.problems


def test_it_gives_each_url_status_its_own_truthful_removal_label():
    from datetime import UTC, datetime, timedelta

    from takedown.choices import URLStatus
    from takedown.models import InfringingURL

    lab = dossier.LABELS["en"]
    sent = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def text(status, removed_at=None, notified_at=sent):
        return dossier.removal_text(
            InfringingURL(status=status, removed_at=removed_at, notified_at=notified_at), lab
        )

    assert text(URLStatus.OPEN) == text(URLStatus.NOTIFIED) == lab["still_live"]
    assert text(URLStatus.REMOVED, sent + timedelta(hours=30)) == "1 d 6 h"
    assert text(URLStatus.REMOVED, sent - timedelta(hours=2)) == lab["removed_before_notice"]
    assert text(URLStatus.REMOVED, sent) == lab["removed_before_notice"]
    others = [URLStatus.DISMISSED, URLStatus.RESTRICTED, URLStatus.LEGALLY_BLOCKED, URLStatus.SOFT_REMOVED]
    labels = [text(s, sent + timedelta(hours=5)) for s in others]
    assert len(set(labels)) == len(others) and lab["still_live"] not in labels
    assert not any(label[0].isdigit() for label in labels), labels  # no "time to removal" for these
    assert set(dossier.LABELS["ko"]) == set(lab)


def test_it_writes_no_spreadsheet_formula_into_data_csv_and_keeps_raw_values_in_data_json(built_case, legal):
    import csv

    from takedown.models import Artist

    case, _notice = built_case
    hostile = '=HYPERLINK("http://evil.example","open")'
    Artist.objects.filter(pk=case.urls.first().artist_id).update(name=hostile)
    data = dossier.dossier_bytes(case=case, user=legal, locale="en")
    zf = zipfile.ZipFile(io.BytesIO(data))
    rows = list(csv.reader(io.StringIO(zf.read("data.csv").decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + hostile in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert hostile in {u["artist"] for u in json.loads(zf.read("data.json"))["urls"]}


def test_it_refuses_to_sign_an_agencys_dossier_with_a_certificate_naming_another_agency(
    built_case, legal, settings, tmp_path
):
    from takedown import signing
    from takedown.errors import Invalid

    case, _notice = built_case
    key, cert, _ = signing.create_self_signed("other-agency", "Moonbeam Agency")
    settings.TAKEDOWN_SIGNING_KEY, settings.TAKEDOWN_SIGNING_CERT = str(key), str(cert)
    with pytest.raises(Invalid, match="names another organisation"):
        dossier.dossier_bytes(case=case, user=legal, locale="en")


def test_the_report_reads_in_the_agencys_time_zone_and_the_data_stays_utc(built_case, legal, settings):
    from pypdf import PdfReader

    case, _notice = built_case
    settings.TIME_ZONE = "UTC"  # as a worker has it: no request activated the agency's zone
    case.agency.time_zone = "Asia/Seoul"
    case.agency.save(update_fields=["time_zone"])
    data = dossier.dossier_bytes(case=case, user=legal, locale="ko")
    zf = zipfile.ZipFile(io.BytesIO(data))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(zf.read("report.pdf"))).pages)
    summary = json.loads(zf.read("data.json"))["case"]
    exported = datetime.fromisoformat(summary["exported_at"])
    assert exported.utcoffset().total_seconds() == 0  # the data keeps UTC
    seoul = exported.astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%d %H:%M KST")
    assert seoul in text  # cover, URL table and timeline all read in Seoul time
    assert "UTC" not in text and "+00:00" not in text
    assert "제안됨" in text and "proposed" not in text  # the timeline's event kinds, in Korean


def test_it_refuses_a_zip_bomb_before_inflating_it(exported, monkeypatch):
    import tracemalloc

    from takedown import dossier_verify

    inflated = 64 << 20  # 64 MiB of zeros deflate to about 64 KiB
    monkeypatch.setattr(dossier_verify, "MAX_TOTAL_BYTES", 32 << 20)
    src = zipfile.ZipFile(io.BytesIO(exported))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = bytes(inflated) if info.filename == "data.json" else src.read(info.filename)
            dst.writestr(info.filename, body)
    bomb = out.getvalue()
    assert len(bomb) < inflated // 100
    tracemalloc.start()
    result = verify_dossier(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert not result.ok and any("inflate to" in p for p in result.problems), result.problems
    assert peak < inflated // 4  # refused from the declared sizes, never inflated
    # A genuine dossier is far below the limit and still verifies.
    assert verify_dossier(exported).ok


def test_a_signing_key_others_may_read_is_warned_of_by_the_system_checks(settings, tmp_path):
    import os

    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    from takedown import signing

    settings.TAKEDOWN_PRIVATE_DIR = tmp_path
    settings.TAKEDOWN_SIGNING_KEY = settings.TAKEDOWN_SIGNING_CERT = ""
    key, _cert, _made = signing.create_self_signed("starlight", "Starlight Entertainment")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    call_command("check", "--fail-level", "WARNING")  # as written: nothing to say
    os.chmod(key, 0o644)
    with pytest.raises(SystemCheckError, match=r"takedown.W003.*may be read by other users"):
        call_command("check", "--fail-level", "WARNING")
    os.chmod(key, 0o600)
    configured = tmp_path / "agency.key"
    configured.write_bytes(key.read_bytes())
    os.chmod(configured, 0o640)
    settings.TAKEDOWN_SIGNING_KEY = str(configured)
    with pytest.raises(SystemCheckError, match=r"agency.key"):
        call_command("check", "--fail-level", "WARNING")


def _lying_about(data: bytes, member: str, declared: int) -> bytes:
    """The ZIP with `member`'s uncompressed size in the central directory set to `declared`."""
    import struct

    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46 : at + 46 + name_len].decode() == member:
            struct.pack_into("<I", out, at + 24, declared)
        at = out.find(b"PK\x01\x02", at + 46)
    return bytes(out)


def test_it_stops_inflating_a_member_whose_declared_size_lies(exported):
    import tracemalloc

    inflated = 256 << 20  # deflates to about 256 KiB
    src = zipfile.ZipFile(io.BytesIO(exported))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(
                info.filename, bytes(inflated) if info.filename == "data.json" else src.read(info.filename)
            )
    bomb = _lying_about(out.getvalue(), "data.json", 10)
    assert zipfile.ZipFile(io.BytesIO(bomb)).getinfo("data.json").file_size == 10
    tracemalloc.start()
    result = verify_dossier(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Read in blocks, the member stops at its declared size and its checksum then fails.
    assert not result.ok and any("data.json" in p for p in result.problems), result.problems
    assert peak < 16 << 20  # never the whole member in memory


def test_it_refuses_compressions_the_export_never_writes(exported):
    src = zipfile.ZipFile(io.BytesIO(exported))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            method = zipfile.ZIP_BZIP2 if info.filename == "data.csv" else zipfile.ZIP_DEFLATED
            dst.writestr(info.filename, src.read(info.filename), compress_type=method)
    result = verify_dossier(out.getvalue())
    assert not result.ok and any("compression the export never writes" in p for p in result.problems)
