"""Checking a dossier (takedown.dossier): its files, the report's signature, and the chain.

Offline, from the ZIP alone: every file's SHA-256 against the manifest; the report's signature
over the whole PDF with the certificate in the ZIP; the file list signed inside the report
against the manifest (so a changed file and a changed manifest are still caught); every chain
entry's own hashes, the links between consecutive entries, and each check in data.json against
its entry. With the installation's database (`database=True`), the entries against the agency's
chain as it stands, and the certificate against the agency's configured one.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field

from takedown import chain, signing
from takedown.dossier import CERTIFICATE, FORMAT, MANIFEST, REPORT, SIGNED_LIST, canonical_manifest

# Refuse a ZIP bomb rather than inflate it. The sizes members declare are checked before
# anything is read; then each member is inflated in blocks and the bytes it really gives are
# counted against the same limits (a declared size can lie). Only the compressions the export
# writes are read: bzip2 and LZMA inflate a whole input at once, without a bound.
MAX_MEMBER_BYTES = 2 << 30
MAX_TOTAL_BYTES = 4 << 30  # all listed members together (they are held in memory to be checked)
MAX_MEMBERS = 200_000
READ_BLOCK = 1 << 20
ACCEPTED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


@dataclass
class DossierCheck:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Budget:
    """The bytes all members together may still inflate to."""

    def __init__(self) -> None:
        self.left = MAX_TOTAL_BYTES


def _read(zf: zipfile.ZipFile, name: str, budget: _Budget | None = None) -> bytes:
    info = zf.getinfo(name)
    if info.compress_type not in ACCEPTED_COMPRESSION:
        raise ValueError(f"{name} uses a compression the export never writes ({info.compress_type})")
    if info.file_size > MAX_MEMBER_BYTES:
        raise ValueError(f"{name} is larger than {MAX_MEMBER_BYTES} bytes")
    limit = min(MAX_MEMBER_BYTES, budget.left if budget else MAX_TOTAL_BYTES)
    out = bytearray()
    with zf.open(info) as fh:
        while True:
            block = fh.read(READ_BLOCK)
            if not block:
                break
            out += block
            if len(out) > limit or len(out) > info.file_size:
                raise ValueError(f"{name} inflates past its declared size or the limit: not read further")
    if budget is not None:
        budget.left -= len(out)
    return bytes(out)


def verify_dossier(data: bytes | str, *, database: bool = False) -> DossierCheck:
    """Every problem found in the dossier at `data` (bytes or a path); none means it holds."""
    report = DossierCheck()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except (OSError, zipfile.BadZipFile) as exc:
        report.problems.append(f"not a readable ZIP: {exc}")
        return report
    with zf:
        try:
            _verify(zf, report, database)
        except (KeyError, ValueError, TypeError, AttributeError, zipfile.BadZipFile) as exc:
            report.problems.append(f"unreadable dossier: {type(exc).__name__}: {exc}")
    return report


def _unsafe_names(zf: zipfile.ZipFile) -> list[str]:
    """Problems with the members' names: a name twice (tools differ on which copy they open),
    an absolute path, a '..' part or a backslash."""
    problems, seen = [], set()
    for info in zf.infolist():
        name = info.filename
        if name in seen:
            problems.append(f"{name!r}: member name appears more than once in the ZIP")
        seen.add(name)
        if name.startswith("/") or "\\" in name or ".." in name.split("/") or ":" in name:
            problems.append(f"{name!r}: unsafe member name (absolute, '..' or backslash)")
    return problems


def _too_big(zf: zipfile.ZipFile, names: set[str]) -> str:
    """Why the members to be read are too many or too large to check, or ''."""
    if len(zf.infolist()) > MAX_MEMBERS:
        return f"the ZIP has {len(zf.infolist())} members, more than {MAX_MEMBERS}: not checked"
    total = sum(zf.getinfo(name).file_size for name in names)
    if total > MAX_TOTAL_BYTES:
        return f"the listed files inflate to {total} bytes, more than {MAX_TOTAL_BYTES}: not checked"
    return ""


def _verify(zf: zipfile.ZipFile, report: DossierCheck, database: bool) -> None:
    unsafe = _unsafe_names(zf)
    if unsafe:
        report.problems.extend(unsafe)
        return
    raw = _read(zf, MANIFEST, _Budget())
    manifest = json.loads(raw)
    if manifest.get("format") != FORMAT:
        report.problems.append(f"{MANIFEST}: unknown format {manifest.get('format')!r}")
        return
    if canonical_manifest(manifest) != raw:
        report.problems.append(f"{MANIFEST} was changed: it is not as the export wrote it")
    listed: dict[str, str] = manifest["files"]
    present = {n for n in zf.namelist() if n != MANIFEST}
    too_big = _too_big(zf, present & set(listed))
    if too_big:
        report.problems.append(too_big)
        return
    for name in sorted(present - set(listed)):
        report.problems.append(f"{name}: not in the manifest")
    contents: dict[str, bytes] = {}
    budget = _Budget()
    for name, sha in sorted(listed.items()):
        if name not in present:
            report.problems.append(f"{name}: listed in the manifest, missing from the ZIP")
            continue
        contents[name] = _read(zf, name, budget)
        if hashlib.sha256(contents[name]).hexdigest() != sha:
            report.problems.append(f"{name}: its SHA-256 does not match the manifest")
    _verify_signature(contents, manifest, report)
    _verify_chain(contents, report)
    if database:
        _verify_against_database(contents, manifest, report)
    else:
        report.notes.append("offline: the certificate was not checked against the installation's certificate")


def _verify_signature(contents: dict[str, bytes], manifest: dict, report: DossierCheck) -> None:
    if REPORT not in contents or CERTIFICATE not in contents:
        report.problems.append("the report or its certificate is missing: the signature cannot be checked")
        return
    sig = signing.verify_pdf(contents[REPORT], contents[CERTIFICATE])
    if sig.problem:
        report.problems.append(f"{REPORT}: signature not verified: {sig.problem}")
        return
    if not sig.intact or not sig.valid:
        report.problems.append(f"{REPORT}: the signature does not match the document (changed after signing)")
    if not sig.whole_file:
        report.problems.append(f"{REPORT}: the signature does not cover the whole file (something was added)")
    included = signing.pem_der(contents[CERTIFICATE])
    if sig.signer_der != included:
        report.problems.append(
            f"{REPORT}: not signed with the certificate in {CERTIFICATE} (signed by another key: "
            f"{signing.fingerprint(sig.signer_der) if sig.signer_der else 'none'})"
        )
    elif not sig.trusted:
        report.problems.append(
            f"{REPORT}: the signature is not trusted under the certificate in {CERTIFICATE}"
        )
    report.notes.append(f"report signed by {sig.signer}")
    report.notes.append(f"{CERTIFICATE}: SHA-256 fingerprint {signing.fingerprint(included)}")
    signed = sig.attachments.get(SIGNED_LIST)
    if signed is None:
        report.problems.append(f"{REPORT}: no signed file list ({SIGNED_LIST}) inside")
        return
    signed_list = json.loads(signed)
    expected = {k: v for k, v in manifest["files"].items() if k != REPORT}
    if signed_list.get("files") != expected:
        report.problems.append(f"{MANIFEST}: its file list differs from the one signed inside the report")
    if signed_list.get("chain") != manifest.get("chain") or signed_list.get("case") != manifest.get("case"):
        report.problems.append(f"{MANIFEST}: its case or chain head differs from the signed one")


def _verify_chain(contents: dict[str, bytes], report: DossierCheck) -> None:
    if "chain.json" not in contents or "data.json" not in contents:
        report.problems.append("chain.json or data.json is missing")
        return
    entries = json.loads(contents["chain.json"])
    by_seq = {}
    for e in entries:
        if chain.sha256_hex(e["content"]) != e["content_sha256"]:
            report.problems.append(f"chain entry {e['seq']}: its content does not match its hash")
        elif (
            chain.entry_hash(e["seq"], e["kind"], e["object_id"], e["content_sha256"], e["prev_sha256"])
            != e["entry_sha256"]
        ):
            report.problems.append(f"chain entry {e['seq']}: its own hash is wrong")
        by_seq[e["seq"]] = e
    for seq, e in by_seq.items():
        before = by_seq.get(seq - 1)
        if before is not None and e["prev_sha256"] != before["entry_sha256"]:
            report.problems.append(f"chain entry {seq}: the link to entry {seq - 1} is broken")
    checks = {e["object_id"]: e for e in entries if e["kind"] == "check"}
    data = json.loads(contents["data.json"])
    uncovered = 0
    for url in data["urls"]:
        for c in url["checks"]:
            entry = checks.get(c["id"])
            if entry is None:
                uncovered += 1
                continue
            recorded = json.loads(entry["content"])
            mine = {
                k: c[k] for k in ("checked_at", "http_status", "final_url", "body_sha256", "verdict", "rule")
            }
            if {k: recorded.get(k) for k in mine} != mine or recorded.get("url") != url["id"]:
                report.problems.append(
                    f"data.json: check {c['id']} differs from its chain entry {entry['seq']}"
                )
    if uncovered:
        report.notes.append(
            f"{uncovered} checks have no chain entry in the dossier: recorded before the chain began, "
            "or not by the product (checking against the installation's database tells which)"
        )
    pdfs = {
        json.loads(e["content"])["notice"]: json.loads(e["content"]).get("pdf_sha256")
        for e in entries
        if e["kind"] == "notice_event" and json.loads(e["content"]).get("to") == "pending"
    }
    for name, body in contents.items():
        if name.startswith("notices/notice-") and name.endswith(".pdf"):
            pk = int(name.removeprefix("notices/notice-").removesuffix(".pdf"))
            if pk in pdfs and pdfs[pk] != hashlib.sha256(body).hexdigest():
                report.problems.append(f"{name}: not the PDF the chain recorded at submission")


def _verify_against_database(contents: dict[str, bytes], manifest: dict, report: DossierCheck) -> None:
    from takedown.models import Agency, ChainEntry

    agency = Agency.objects.filter(slug=manifest.get("agency")).first()
    if agency is None:
        report.problems.append(f"agency {manifest.get('agency')!r} is not on this installation")
        return
    entries = json.loads(contents.get("chain.json", b"[]"))
    stored = dict(
        ChainEntry.objects.filter(agency=agency, seq__in=[e["seq"] for e in entries]).values_list(
            "seq", "entry_sha256"
        )
    )
    for e in entries:
        if stored.get(e["seq"]) != e["entry_sha256"]:
            report.problems.append(f"chain entry {e['seq']}: differs from this installation's chain")
            break
    head = manifest["chain"]
    if head["head_seq"]:
        at = ChainEntry.objects.filter(agency=agency, seq=head["head_seq"]).values_list(
            "entry_sha256", flat=True
        )
        if at.first() != head["head_sha256"]:
            report.problems.append("the chain head at export is not in this installation's chain")
    result = chain.verify_chain(agency)
    if not result.ok:
        report.problems.extend(f"the agency's chain: {p}" for p in result.broken)
    try:
        mine = signing.pem_der(signing.certificate_pem(agency.slug))
    except Exception:
        report.problems.append("no signing certificate configured here: the signer cannot be checked")
        return
    if not contents.get(CERTIFICATE) or signing.pem_der(contents[CERTIFICATE]) != mine:
        report.problems.append(
            f"{REPORT}: not signed with the certificate in {CERTIFICATE} of this installation "
            f"(the agency's is {signing.fingerprint(mine)})"
        )
    else:
        report.notes.append(f"{CERTIFICATE}: the agency's configured certificate on this installation")
