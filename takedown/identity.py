"""One item, one row: re-normalising stored URLs and linking rows that are the same item.

Two rows of one artist can turn out to be one item after they were stored: a release folds
another URL form to the canonical one (the stored rows still hold the old form), or a short
link that only the platform can resolve (t.co, naver.me, vm.tiktok.com) leads to a URL the
artist already has. Such rows are never deleted (they may have checks, notices and an
outcome): the later one points at the item with `same_as`, keeps its own history, and is left
out of notices, stats and checks from then on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from takedown.urltools import NormalizedURL, UnsafeURL, is_short_link, normalize_url, short_link_host

__all__ = ["RenormalizeReport", "urls_link_followed", "urls_renormalize"]

_BATCH = 1000


@dataclass
class RenormalizeReport:
    scanned: int = 0
    updated: int = 0  # rows now holding the new canonical form
    linked: int = 0  # rows linked to another row of the same artist as one item
    refused: int = 0  # rows whose stored URL the current rules refuse: left as they are
    left: int = 0  # rows whose new form another row holds while moving away: left as they are
    unlinked: int = 0  # linked rows that the current rules say are a different item: set apart

    def __str__(self) -> str:
        return (
            f"{self.scanned} URLs scanned: {self.updated} re-normalised, {self.linked} linked "
            f"to the same item, {self.refused} left as stored (now refused)"
            + (f", {self.left} left as stored (forms swapped between rows)" if self.left else "")
            + (f", {self.unlinked} set apart again as a different item" if self.unlinked else "")
        )


def _link(model: type[models.Model], *, alias_ids: Sequence[int], item_id: int) -> int:
    """Point `alias_ids` (and whatever pointed at them) at `item_id`, and stop checking them:
    the item's own checks speak for it."""
    if not alias_ids:
        return 0
    model.objects.filter(same_as_id__in=alias_ids).update(same_as_id=item_id)
    return (
        model.objects.filter(pk__in=alias_ids)
        .exclude(pk=item_id)
        .update(same_as_id=item_id, next_check_at=None)
    )


def urls_renormalize(*, model: type[models.Model] | None = None, batch: int = _BATCH) -> RenormalizeReport:
    """Bring every stored row's `normalized_url` to the current canonical form of its `url`.

    Where the new form is already held by another row of the same artist, the row is linked
    to that row (`same_as`) and keeps its old form (the unique constraint forbids two rows
    with one form); nothing is deleted. Idempotent; safe to run on every deploy. `model` is
    the InfringingURL model (a migration passes its historical one).
    """
    if model is None:
        from takedown.models import InfringingURL as model
    report = RenormalizeReport()
    report.unlinked = _unlink_different_items(model)
    changes: list[tuple[int, int, str, str, str]] = []  # pk, artist, old, new, host; oldest first
    rows = (
        model.objects.filter(same_as__isnull=True)
        .order_by("pk")
        .values_list("pk", "artist_id", "url", "normalized_url")
    )
    for pk, artist_id, url, stored in rows.iterator(chunk_size=5000):
        report.scanned += 1
        try:
            norm = normalize_url(url)
        except UnsafeURL:
            report.refused += 1
            continue
        if norm.url != stored:
            changes.append((pk, artist_id, stored, norm.url, norm.host))
    # pk -> the form a row is about to move to: a row still holding a form that another row
    # folds to, but moving away from it itself, is not that item (it is a different item
    # whose old form happened to be this one), so the other row waits for it to move.
    moving = {c[0]: c[3] for c in changes}
    pending = changes
    while pending:
        deferred = []
        for start in range(0, len(pending), batch):
            chunk = pending[start : start + batch]
            with transaction.atomic():
                holders = {
                    (a, u): (pk, same)
                    for pk, a, u, same in model.objects.filter(
                        artist_id__in={c[1] for c in chunk}, normalized_url__in={c[3] for c in chunk}
                    ).values_list("pk", "artist_id", "normalized_url", "same_as_id")
                }
                for change in chunk:
                    pk, artist_id, old, new, host = change
                    held = holders.get((artist_id, new))
                    if held is not None and held[0] != pk:
                        holder, root = held
                        if moving.get(holder, new) != new:
                            deferred.append(change)
                            continue
                        report.linked += _link(model, alias_ids=[pk], item_id=root or holder)
                        moving.pop(pk, None)
                        continue
                    model.objects.filter(pk=pk).update(normalized_url=new, host=host)
                    moving.pop(pk, None)
                    if holders.get((artist_id, old), (None,))[0] == pk:
                        del holders[(artist_id, old)]  # the old form is free now
                    holders[(artist_id, new)] = (pk, None)
                    report.updated += 1
        if len(deferred) == len(pending):
            report.left = len(deferred)  # rows that swap forms with each other: left as stored
            break
        pending = deferred
    return report


def _unlink_different_items(model: type[models.Model]) -> int:
    """Set apart every linked row that the current rules no longer fold to its item: an
    earlier rule folded a comment into its post, say, and linked the comment's row away, so it
    was never checked or named in a notice. The row is due for a check again; the caller then
    gives it its own canonical form. Short links keep their link: it was made by following them.
    """
    rows = model.objects.filter(same_as__isnull=False).values_list(
        "pk", "url", "same_as__url", "same_as__normalized_url"
    )
    apart: list[int] = []
    for pk, url, root_url, root_stored in rows.iterator(chunk_size=5000):
        try:
            norm = normalize_url(url)
        except UnsafeURL:
            continue
        if norm.url == root_stored or is_short_link(norm):
            continue
        try:
            root_new = normalize_url(root_url).url
        except UnsafeURL:
            root_new = None
        if norm.url != root_new:
            apart.append(pk)
    if not apart:
        return 0
    # Conditional on the link still being there, so a concurrent re-link is not undone twice.
    return model.objects.filter(pk__in=apart, same_as__isnull=False).update(
        same_as=None, next_check_at=timezone.now()
    )


def urls_link_followed(results: Iterable[tuple[int, str, str]]) -> int:
    """After a check: link each short link whose final URL (reached through the probe's vetted
    redirects) is a URL its artist already has. `results` holds (url id, stored host, final
    URL). Returns how many rows were linked. Costs no query unless a short link was checked.
    """
    followed: dict[int, str] = {}
    for pk, host, final_url in results:
        if final_url and short_link_host(host):
            followed[pk] = final_url
    if not followed:
        return 0
    from takedown.models import InfringingURL

    rows = InfringingURL.objects.filter(pk__in=list(followed), same_as__isnull=True).values_list(
        "pk", "artist_id", "normalized_url", "host"
    )
    targets: dict[int, tuple[int, str]] = {}
    for pk, artist_id, stored, host in rows:
        if not is_short_link(NormalizedURL(stored, host)):
            continue
        try:
            target = normalize_url(followed[pk]).url
        except UnsafeURL:
            continue
        if target != stored:
            targets[pk] = (artist_id, target)
    if not targets:
        return 0
    cond = Q()
    for artist_id, target in targets.values():
        cond |= Q(artist_id=artist_id, normalized_url=target)
    holders = {
        (a, u): (same or pk)
        for pk, a, u, same in InfringingURL.objects.filter(cond).values_list(
            "pk", "artist_id", "normalized_url", "same_as_id"
        )
    }
    linked = 0
    for pk, key in targets.items():
        item = holders.get(key)
        if item is not None and item != pk:
            linked += _link(InfringingURL, alias_ids=[pk], item_id=item)
    return linked
