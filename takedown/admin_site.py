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
        to_triage=Count(
            "pk",
            filter=Q(status=URLStatus.OPEN)
            & ~Q(
                notice_items__notice__status__in=[
                    NoticeStatus.DRAFT,
                    NoticeStatus.PENDING,
                    NoticeStatus.APPROVED,
                    NoticeStatus.SENT,
                    NoticeStatus.ACKNOWLEDGED,
                ]
            ),
        ),
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

    def has_permission(self, request) -> bool:
        # Every admin view goes through this (admin_view), so the approval queue, the PDF view
        # and job pages all demand the second factor, not only the home page.
        from takedown import signin

        return super().has_permission(request) and signin.second_factor_satisfied(request)

    def login(self, request, extra_context=None):
        from django.http import HttpResponseRedirect

        from takedown import signin

        if request.method == "GET":
            step = signin.next_step_url(request)
            if step is not None and request.user.is_active and request.user.is_staff:
                return HttpResponseRedirect(step)
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code == 302:
            # The password was right: go to the code (or the set-up page) before anything else.
            step = signin.next_step_url(request)
            if step is not None:
                return HttpResponseRedirect(step)
        return response

    def index(self, request, extra_context=None):
        extra = {"work": work_summary(request.user), **(extra_context or {})}
        return super().index(request, extra)

    def get_urls(self):
        from django.urls import path

        from takedown import signin

        return [
            *signin.admin_views(self),
            path("dashboard/", self.admin_view(self.dashboard_view), name="dashboard"),
            *super().get_urls(),
        ]

    def dashboard_view(self, request):
        """Outcomes per platform, route and artist, trends and the overdue list, for one agency."""
        from django.core.exceptions import PermissionDenied
        from django.template.response import TemplateResponse

        from takedown import charts, stats
        from takedown.models import Agency

        user = request.user
        if not user.has_perm("takedown.view_infringingurl"):
            raise PermissionDenied
        agencies = list(Agency.objects.order_by("name")) if user.is_superuser else []
        if user.is_superuser:
            agency = next(
                (a for a in agencies if a.slug == request.GET.get("agency")),
                agencies[0] if agencies else None,
            )
        else:
            agency = user.agency
        context = {
            **self.each_context(request),
            "title": _("Outcomes dashboard"),
            "agency": agency,
            "agencies": agencies,
        }
        if agency is not None:
            figures = stats.removal_stats(agency)
            trend = stats.weekly_trend(agency)
            for group in ("platforms", "legal_routes", "artists"):
                for row in figures[group]:
                    row["median_hours"] = _hours(row["median_seconds_to_removal"])
                    row["p90_hours"] = _hours(row["p90_seconds_to_removal"])
                    row["median_text"] = human_duration(row["median_seconds_to_removal"])
                    row["p90_text"] = human_duration(row["p90_seconds_to_removal"])
                    row["rate_percent"] = (
                        None if row["removal_rate"] is None else round(100 * row["removal_rate"])
                    )
            figures["overall"]["median_hours"] = _hours(figures["overall"]["median_seconds_to_removal"])
            figures["overall"]["p90_hours"] = _hours(figures["overall"]["p90_seconds_to_removal"])
            figures["overall"]["median_text"] = human_duration(
                figures["overall"]["median_seconds_to_removal"]
            )
            figures["overall"]["p90_text"] = human_duration(figures["overall"]["p90_seconds_to_removal"])
            notified = [p for p in figures["platforms"] if p["notified"]]
            context.update(
                figures=figures,
                overdue=stats.overdue_urls(agency),
                trend_chart=charts.weekly_bars(
                    [w[5:] for w in trend["weeks"]],
                    {str(_("New URLs")): trend["new_urls"], str(_("Removals")): trend["removals"]},
                    title=str(_("Per week, last 12 weeks")),
                ),
                rate_chart=charts.horizontal_bars(
                    [
                        (p["name"], p["rate_percent"], f"{p['rate_percent']}% of {p['notified']}")
                        for p in notified
                    ],
                    title=str(_("Removal rate per platform")),
                    maximum=100,
                ),
                speed_chart=charts.horizontal_bars(
                    [
                        (
                            p["name"],
                            p["median_hours"],
                            f"{p['median_hours']} h" if p["median_hours"] is not None else "–",
                        )
                        for p in notified
                    ],
                    title=str(_("Median hours to removal per platform")),
                ),
            )
        return TemplateResponse(request, "admin/takedown/dashboard.html", context)


def human_duration(seconds: float | None) -> str:
    """ "< 1 min", "4 min", "3.2 h", "2.1 d": readable whatever the scale; "–" for none."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return "< 1 min"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 72 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)
