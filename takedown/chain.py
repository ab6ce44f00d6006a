"""A per-agency hash chain over the record: every check, notice event and case event.

Each entry holds the canonical content of what it covers (JSON, sorted keys, the fields that
matter), that content's SHA-256, the previous entry's hash and its own:

    entry_sha256 = SHA-256("<seq>|<kind>|<object id>|<content_sha256>|<prev_sha256>")

so changing any entry, or any row it covers, or dropping or inserting an entry, breaks a link
that `verify_chain` finds. The head of the day (`ChainAnchor`) is what an agency sends its law
firm: an anchor outside the installation, which a rewritten chain cannot match.

Appends are serialized per agency by a row lock on its `ChainHead`, taken inside the caller's
transaction: two workers appending for one agency at once queue on that row, so the chain
never forks. The lock is held until the caller commits.

Not covered, on purpose: a check's title and excerpt (retention strips them after a while) and
a notice event's free-text reason (erasure replaces names in it). Retention and erasure record
what they delete: a `deletion` entry (reason and the ids, per kind) in the same transaction as
the delete. `verify_chain` counts a covered row that is gone as deleted when such an entry names
it, and otherwise as gone without a record (reported, with the first one, for a person to look
at: a row deleted behind the product's back, or by a superuser in the admin).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.utils import timezone

from takedown.choices import ChainKind
from takedown.models import (
    Agency,
    CaseEvent,
    ChainAnchor,
    ChainEntry,
    ChainHead,
    Notice,
    NoticeEvent,
    URLCheck,
)

GENESIS = "0" * 64


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(content: dict) -> str:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def entry_hash(seq: int, kind: str, object_id: int, content_sha256: str, prev_sha256: str) -> str:
    return sha256_hex(f"{seq}|{kind}|{object_id}|{content_sha256}|{prev_sha256}")


# -- What each kind covers ---------------------------------------------------------------------

CHECK_FIELDS = ("id", "url_id", "checked_at", "http_status", "final_url", "body_sha256", "verdict", "rule")


def check_content(row: dict) -> dict:
    return {
        "check": row["id"],
        "url": row["url_id"],
        "checked_at": _iso(row["checked_at"]),
        "http_status": row["http_status"],
        "final_url": row["final_url"],
        "body_sha256": row["body_sha256"],
        "verdict": row["verdict"],
        "rule": row["rule"],
    }


def notice_event_content(event: NoticeEvent, pdf_sha256: str) -> dict:
    content = {
        "notice": event.notice_id,
        "event": event.pk,
        "actor": event.actor_id,
        "at": _iso(event.at),
        "from": event.from_status,
        "to": event.to_status,
        "data": event.data,
    }
    # Submission froze the PDF: its hash enters the chain with the event.
    if event.to_status == "pending":
        content["pdf_sha256"] = pdf_sha256
    return content


def case_event_content(event: CaseEvent) -> dict:
    return {
        "case": event.case_id,
        "event": event.pk,
        "actor": event.actor_id,
        "at": _iso(event.at),
        "kind": event.kind,
        "detail": event.detail,
        "data": event.data,
    }


# -- Appending ---------------------------------------------------------------------------------


def _locked_head(agency_id: int) -> ChainHead:
    head = ChainHead.objects.select_for_update().filter(agency_id=agency_id).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            ChainHead.objects.create(agency_id=agency_id, seq=0, head_sha256=GENESIS)
    except IntegrityError:
        pass  # another worker made it first: lock theirs
    return ChainHead.objects.select_for_update().get(agency_id=agency_id)


def lock_heads(agency_ids: Iterable[int]) -> None:
    """Lock these agencies' heads, in id order, for the caller's transaction. Transactions that
    also lock URL rows take the heads first (as a notice's move does), so the two orders never
    cross into a deadlock."""
    for agency_id in sorted(set(agency_ids)):
        _locked_head(agency_id)


def chain_append(*, agency_id: int, items: Iterable[tuple[str, int, dict]]) -> list[ChainEntry]:
    """Append (kind, object id, content) entries to the agency's chain, in order.

    Runs in the caller's transaction (the entries commit or roll back with what they cover) and
    holds the agency's head row locked until then.
    """
    items = list(items)
    if not items:
        return []
    with transaction.atomic(savepoint=False):
        head = _locked_head(agency_id)
        seq, prev = head.seq, head.head_sha256
        now = timezone.now()
        rows = []
        for kind, object_id, content in items:
            seq += 1
            text = canonical(content)
            digest = sha256_hex(text)
            this = entry_hash(seq, kind, object_id, digest, prev)
            rows.append(
                ChainEntry(
                    agency_id=agency_id,
                    seq=seq,
                    kind=kind,
                    object_id=object_id,
                    at=now,
                    content=text,
                    content_sha256=digest,
                    prev_sha256=prev,
                    entry_sha256=this,
                )
            )
            prev = this
        ChainEntry.objects.bulk_create(rows, batch_size=500)
        ChainHead.objects.filter(agency_id=agency_id).update(seq=seq, head_sha256=prev)
    return rows


def chain_checks(written: list[tuple[int, datetime]]) -> None:
    """Append checks just written, given as (URL id, checked at): one URL is held by one claim,
    so that pair is theirs. Per agency, agencies in id order (no lock-order deadlock)."""
    if not written:
        return
    wanted = set(written)
    per_agency: dict[int, list] = defaultdict(list)
    rows = (
        URLCheck.objects.filter(url_id__in={u for u, _ in written}, checked_at__in={t for _, t in written})
        .order_by("pk")
        .values(*CHECK_FIELDS, "url__artist__agency_id")
    )
    for row in rows:
        if (row["url_id"], row["checked_at"]) in wanted:
            per_agency[row["url__artist__agency_id"]].append((ChainKind.CHECK, row["id"], check_content(row)))
    for agency_id in sorted(per_agency):
        chain_append(agency_id=agency_id, items=per_agency[agency_id])


def chain_notice_event(event: NoticeEvent, agency_id: int, pdf_sha256: str) -> None:
    chain_append(
        agency_id=agency_id,
        items=[(ChainKind.NOTICE_EVENT, event.pk, notice_event_content(event, pdf_sha256))],
    )


def chain_case_event(event: CaseEvent, agency_id: int) -> None:
    chain_append(agency_id=agency_id, items=[(ChainKind.CASE_EVENT, event.pk, case_event_content(event))])


# -- The head of the day -----------------------------------------------------------------------


def record_deletions(*, reason: str, checks=None, notice_events=None) -> dict[str, list[int]]:
    """Name covered rows about to be deleted (querysets of URLCheck / NoticeEvent) in one
    `deletion` entry per agency, in the caller's transaction; returns the ids by kind, which the
    caller deletes by id (`pk__in`), in the same transaction.

    The heads are locked before the ids are read: a check chained meanwhile by a recheck either
    committed before (and is named) or waits for this transaction (and is not deleted)."""
    agencies: set[int] = set()
    if checks is not None:
        agencies |= set(checks.order_by().values_list("url__agency_id", flat=True).distinct())
    if notice_events is not None:
        agencies |= set(notice_events.order_by().values_list("notice__agency_id", flat=True).distinct())
    # Only agencies whose chain has begun: rows from before it were never covered.
    begun = set(
        ChainHead.objects.filter(agency_id__in=list(agencies), seq__gt=0).values_list("agency_id", flat=True)
    )
    lock_heads(begun)
    by_agency: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    ids: dict[str, list[int]] = {ChainKind.CHECK: [], ChainKind.NOTICE_EVENT: []}
    if checks is not None:
        for pk, agency_id in checks.order_by().values_list("pk", "url__agency_id").iterator(chunk_size=5000):
            by_agency[agency_id][ChainKind.CHECK].append(pk)
            ids[ChainKind.CHECK].append(pk)
    if notice_events is not None:
        for pk, agency_id in notice_events.order_by().values_list("pk", "notice__agency_id"):
            by_agency[agency_id][ChainKind.NOTICE_EVENT].append(pk)
            ids[ChainKind.NOTICE_EVENT].append(pk)
    for agency_id, kinds in sorted(by_agency.items()):
        if agency_id not in begun:
            continue
        content = {"reason": reason, **{str(kind): sorted(found) for kind, found in kinds.items()}}
        chain_append(agency_id=agency_id, items=[(ChainKind.DELETION, 0, content)])
    return ids


def _recorded_deletions(agency_id: int, upto: int | None, after: int = 0) -> dict[str, set[int]]:
    rows = ChainEntry.objects.filter(agency_id=agency_id, kind=ChainKind.DELETION, seq__gt=after)
    if upto is not None:
        rows = rows.filter(seq__lte=upto)
    deleted: dict[str, set[int]] = defaultdict(set)
    for text in rows.order_by("seq").values_list("content", flat=True).iterator(chunk_size=200):
        for kind, ids in json.loads(text).items():
            if kind != "reason":
                deleted[kind].update(ids)
    return deleted


def _explain_gone(agency: Agency, report: ChainReport, after: int) -> None:
    later = _recorded_deletions(agency.pk, None, after=after)
    still = [row for row in report.gone_rows if row[2] not in later[row[1]]]
    report.deleted += len(report.gone_rows) - len(still)
    report.gone, report.gone_rows = len(still), still


def chain_anchor_today(*, today: date | None = None) -> int:
    """Record each agency's head for today (once a day; the daily schedule calls it)."""
    today = today or timezone.localdate()
    made = 0
    for head in ChainHead.objects.exclude(seq=0):
        _, created = ChainAnchor.objects.get_or_create(
            agency_id=head.agency_id, day=today, defaults={"seq": head.seq, "head_sha256": head.head_sha256}
        )
        made += created
    return made


def anchors_text(agency: Agency, anchors: Iterable[ChainAnchor]) -> str:
    """The heads of the days as plain text, for a law firm to keep."""
    lines = [f"# takedown hash chain heads of {agency.name} (entries, SHA-256 of the newest entry)"]
    lines += [f"{a.day.isoformat()}\t{a.seq}\t{a.head_sha256}" for a in anchors]
    return "\n".join(lines) + "\n"


# -- Verifying ---------------------------------------------------------------------------------


@dataclass
class ChainReport:
    agency: str
    entries: int = 0
    deleted: int = 0  # covered rows gone, each named by a deletion entry (retention, erasure)
    gone: int = 0  # covered rows gone with no deletion entry naming them
    gone_rows: list[tuple[int, str, int]] = field(default_factory=list)  # (entry, kind, object id)
    broken: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken

    @property
    def first_gone(self) -> str:
        if not self.gone_rows:
            return ""
        seq, kind, object_id = self.gone_rows[0]
        return f"entry {seq}: {ChainKind(kind).label} {object_id}"


def _current_contents(kind: str, ids: list[int]) -> dict[int, dict]:
    if kind == ChainKind.CHECK:
        return {r["id"]: check_content(r) for r in URLCheck.objects.filter(pk__in=ids).values(*CHECK_FIELDS)}
    if kind == ChainKind.NOTICE_EVENT:
        events = list(NoticeEvent.objects.filter(pk__in=ids))
        pdfs = dict(
            Notice.objects.filter(pk__in={e.notice_id for e in events}).values_list("pk", "pdf_sha256")
        )
        return {e.pk: notice_event_content(e, pdfs.get(e.notice_id, "")) for e in events}
    return {e.pk: case_event_content(e) for e in CaseEvent.objects.filter(pk__in=ids)}


def _entries(agency_id: int, chunk: int, upto: int | None = None) -> Iterator[list[ChainEntry]]:
    after = 0
    while True:
        rows = ChainEntry.objects.filter(agency_id=agency_id, seq__gt=after)
        if upto is not None:
            rows = rows.filter(seq__lte=upto)
        rows = list(rows.order_by("seq")[:chunk])
        if not rows:
            return
        yield rows
        after = rows[-1].seq


def verify_entries(entries: Iterable[ChainEntry], prev: str, expect_seq: int) -> tuple[str | None, str, int]:
    """Check links in order from (prev, expected seq); the first broken one, the last hash, seq."""
    for e in entries:
        if e.seq != expect_seq:
            return f"entry {expect_seq} is missing (found {e.seq} next)", prev, expect_seq
        if sha256_hex(e.content) != e.content_sha256:
            return f"entry {e.seq} ({e.kind} {e.object_id}): its content does not match its hash", prev, e.seq
        if e.prev_sha256 != prev:
            return f"entry {e.seq}: the link to entry {e.seq - 1} is broken", prev, e.seq
        if entry_hash(e.seq, e.kind, e.object_id, e.content_sha256, e.prev_sha256) != e.entry_sha256:
            return f"entry {e.seq} ({e.kind} {e.object_id}): its own hash is wrong", prev, e.seq
        prev = e.entry_sha256
        expect_seq += 1
    return None, prev, expect_seq


def _orphan(agency: Agency) -> str | None:
    """The first check, notice event or case event of the agency written after its chain began
    (later than its first entry, or a higher id than the first chained row of its kind) that has
    no entry: a row put into the database behind the product's back."""
    first = ChainEntry.objects.filter(agency=agency).order_by("seq").values_list("at", flat=True).first()
    if first is None:
        return None
    kinds = [
        (ChainKind.CHECK, URLCheck.objects.filter(url__artist__agency=agency), "checked_at"),
        (ChainKind.NOTICE_EVENT, NoticeEvent.objects.filter(notice__agency=agency), "at"),
        (ChainKind.CASE_EVENT, CaseEvent.objects.filter(case__agency=agency), "at"),
    ]
    for kind, rows, when in kinds:
        chained = ChainEntry.objects.filter(agency=agency, kind=kind)
        expected = Q(**{f"{when}__gte": first})
        lowest = chained.aggregate(m=Min("object_id"))["m"]
        if lowest is not None:
            expected |= Q(pk__gt=lowest)
        # One statement: a row it sees committed with its entry, so the entry is seen too.
        orphan = (
            rows.filter(expected)
            .exclude(pk__in=chained.values("object_id"))
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if orphan is not None:
            return f"{ChainKind(kind).label} {orphan} has no chain entry (written after the chain began, not by the product)"
    return None


def verify_chain(agency: Agency, *, chunk: int = 2000) -> ChainReport:
    """Walk the agency's chain: every link, every covered row still present, the head, the anchors.

    Stops at the first broken link (the report says which); covered rows that are gone are
    counted: as deleted where a deletion entry names them, as gone without a record otherwise.
    """
    report = ChainReport(agency=agency.slug)
    # The head first, and the walk up to it: appends committing meanwhile lie beyond it.
    head = ChainHead.objects.filter(agency_id=agency.pk).first()
    recorded = _recorded_deletions(agency.pk, head.seq if head is not None else None)
    prev, seq = GENESIS, 1
    for rows in _entries(agency.pk, chunk, head.seq if head is not None else None):
        problem, prev, seq = verify_entries(rows, prev, seq)
        if problem:
            report.broken.append(problem)
            return report
        report.entries += len(rows)
        by_kind: dict[str, list[ChainEntry]] = defaultdict(list)
        for e in rows:
            by_kind[e.kind].append(e)
        for kind, entries in by_kind.items():
            if kind == ChainKind.DELETION:
                continue  # covers no row: its content is checked by its hash above
            current = _current_contents(kind, [e.object_id for e in entries])
            for e in entries:
                now = current.get(e.object_id)
                if now is None and e.object_id in recorded[kind]:
                    report.deleted += 1
                elif now is None:
                    report.gone += 1
                    report.gone_rows.append((e.seq, kind, e.object_id))
                elif canonical(now) != e.content:
                    report.broken.append(
                        f"entry {e.seq}: {ChainKind(kind).label} {e.object_id} was changed after it was recorded"
                    )
                    return report
    if report.gone:
        # A deletion committed while the walk went on is named after the head read at its start.
        _explain_gone(agency, report, head.seq if head is not None else 0)
    if head is not None and (head.seq != seq - 1 or head.head_sha256 != prev):
        report.broken.append(f"the head says entry {head.seq}, the chain ends at entry {seq - 1}")
        return report
    orphan = _orphan(agency)
    if orphan:
        report.broken.append(orphan)
        return report
    for anchor in ChainAnchor.objects.filter(agency=agency).order_by("day"):
        entry = (
            ChainEntry.objects.filter(agency=agency, seq=anchor.seq)
            .values_list("entry_sha256", flat=True)
            .first()
        )
        if entry != anchor.head_sha256:
            report.broken.append(f"the head of {anchor.day} (entry {anchor.seq}) no longer matches the chain")
            return report
    return report
