"""The admin site: its home page shows each role its own work first."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from takedown.choices import NoticeStatus, URLStatus
from takedown.roles import role_has


def work_summary(user) -> dict:
    """Counts for the home page, in two queries whatever the data size."""
    from takedown.models import InfringingURL, Job, Notice

    urls = InfringingURL.objects.visible_to(user).aggregate(
        to_triage=Count("pk", filter=Q(status=URLStatus.OPEN) & ~Q(notice_items__notice__status__in=[
            NoticeStatus.DRAFT, NoticeStatus.PENDING, NoticeStatus.APPROVED, NoticeStatus.SENT,
            NoticeStatus.ACKNOWLEDGED])),
        overdue=Count("pk", filter=Q(overdue_since__isnull=False)),
        live=Count("pk", filter=Q(status=URLStatus.NOTIFIED)),
    )
    notices = Notice.objects.visible_to(user).aggregate(
        drafts=Count("pk", filter=Q(status=NoticeStatus.DRAFT)),
        pending=Count("pk", filter=Q(status=NoticeStatus.PENDING)),
        approved=Count("pk", filter=Q(status=NoticeStatus.APPROVED)),
    )
    running = Job.objects.filter(state__in=["queued", "running"])
    if not user.is_superuser:
        running = running.filter(agency_id=user.agency_id)
    return {
        **urls,
        **notices,
        "jobs": running.count(),
        "is_reviewer": role_has(user, "review_notice"),
        "is_drafter": role_has(user, "add_notice"),
        "is_manager": user.is_superuser or getattr(user, "role", "") == "manager",
    }


class TakedownAdminSite(admin.AdminSite):
    site_header = _("takedown")
    site_title = _("takedown")
    index_title = _("Takedown work")
    index_template = "admin/takedown_index.html"

    def index(self, request, extra_context=None):
        extra = {"work": work_summary(request.user), **(extra_context or {})}
        return super().index(request, extra)
