"""The admin site: its home page shows each role its own work first."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class TakedownAdminSite(admin.AdminSite):
    site_header = _("takedown")
    site_title = _("takedown")
    index_title = _("Takedown work")
    # The admin is the product: there is no public site for "View site" to lead to.
    site_url = None
    index_template = "admin/takedown_index.html"

    def each_context(self, request):
        from takedown.notices.delivery import email_not_configured
        from takedown.roles import role_has

        context = super().each_context(request)
        user = request.user
        # Who sends notices, or runs the installation, must know that email goes nowhere.
        if user.is_authenticated and (
            role_has(user, "review_notice") or getattr(user, "role", "") == "manager"
        ):
            context["email_not_configured"] = bool(email_not_configured())
        return context

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
        from takedown import stats

        extra = {"work": stats.work_summary(request.user), **(extra_context or {})}
        return super().index(request, extra)

    def get_urls(self):
        from django.urls import path

        from takedown import signin

        return [
            *signin.admin_views(self),
            path("dashboard/", self.admin_view(self.dashboard_view), name="dashboard"),
            path(
                "dashboard/export.csv", self.admin_view(self.dashboard_export_view), name="dashboard_export"
            ),
            *super().get_urls(),
        ]

    def _dashboard_agency(self, request):
        from django.core.exceptions import PermissionDenied

        from takedown.models import Agency

        user = request.user
        if not user.has_perm("takedown.view_infringingurl"):
            raise PermissionDenied
        if not user.is_superuser:
            return user.agency, []
        agencies = list(Agency.objects.order_by("name"))
        agency = next(
            (a for a in agencies if a.slug == request.GET.get("agency")),
            agencies[0] if agencies else None,
        )
        return agency, agencies

    def dashboard_view(self, request):
        """Outcomes per platform, route and artist, trends and the overdue list, for one agency,
        narrowed by the filters in the query string."""
        from django.template.response import TemplateResponse

        from takedown import stats
        from takedown.admin import dashboard
        from takedown.escalation import recipient_figures

        agency, agencies = self._dashboard_agency(request)
        context = {
            **self.each_context(request),
            "title": _("Outcomes dashboard"),
            "agency": agency,
            "agencies": agencies,
        }
        if agency is not None:
            chosen = dashboard.parse_filters(request.GET, agency)
            figures = stats.dashboard_figures(agency, chosen.filters)
            context.update(dashboard.page_context(figures, chosen))
            context["recipients"] = recipient_figures(agency)
        return TemplateResponse(request, "admin/takedown/dashboard.html", context)

    def dashboard_export_view(self, request):
        """The dashboard's tables as CSV, with the same filters."""
        from django.http import Http404

        from takedown import stats
        from takedown.admin import dashboard

        agency, _agencies = self._dashboard_agency(request)
        if agency is None:
            raise Http404
        chosen = dashboard.parse_filters(request.GET, agency)
        return dashboard.csv_response(stats.dashboard_figures(agency, chosen.filters), chosen)
