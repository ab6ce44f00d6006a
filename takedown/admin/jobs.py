"""Background jobs (large imports, rechecks) and where they stand; the page refreshes itself."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _

from takedown.admin.base import AgencyScoped, ReadOnly
from takedown.models import (
    Job,
)


@admin.register(Job)
class JobAdmin(AgencyScoped, ReadOnly, admin.ModelAdmin):
    """Background work and where it stands; its page refreshes itself until done."""

    list_display = ["__str__", "state", "progress", "user", "created_at", "finished_at"]
    list_filter = ["kind", "state"]
    fields = [
        "kind",
        "state",
        "total",
        "done",
        "user",
        "created_at",
        "finished_at",
        "attempts",
        "log",
        "result",
        "error",
    ]
    readonly_fields = fields
    change_form_template = "admin/takedown/job/change_form.html"

    @admin.display(description=_("progress"))
    def progress(self, job: Job) -> str:
        return f"{job.done}/{job.total} ({job.percent}%)"

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def get_urls(self):
        return [
            path(
                "<int:pk>/status.json",
                self.admin_site.admin_view(self.status_view),
                name="takedown_job_status",
            ),
            *super().get_urls(),
        ]

    def status_view(self, request, pk: int):
        from django.http import JsonResponse
        from django.shortcuts import get_object_or_404

        job = get_object_or_404(self.get_queryset(request), pk=pk)
        return JsonResponse(
            {
                "state": job.state,
                "done": job.done,
                "total": job.total,
                "percent": job.percent,
                "result": job.result,
                "error": job.error,
            }
        )
