"""Background jobs (large imports, rechecks) and where they stand; the page refreshes itself."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from takedown.admin.base import AgencyScoped, ReadOnly
from takedown.admin.intake import UploadFilter
from takedown.choices import Source
from takedown.models import (
    Job,
)

ERRORS_SHOWN = 500


def job_outcome(job: Job, user) -> dict:
    """What a finished job did, for people: a sentence, the rows it refused and why, and for an
    upload a link to exactly the rows it created."""
    result = job.result or {}
    if job.kind != Job.Kind.IMPORT or not result:
        return {}
    outcome = {
        "summary": gettext("%(c)d created, %(d)d duplicates, %(r)d rejected.")
        % {"c": result.get("created", 0), "d": result.get("duplicates", 0), "r": result.get("rejected", 0)},
        "row_errors": result.get("errors", [])[:ERRORS_SHOWN],
        "row_notes": result.get("notes", [])[:ERRORS_SHOWN],
        "errors_cut": max(0, len(result.get("errors", [])) - ERRORS_SHOWN),
    }
    # The upload filter shows the rows the uploader's CSV uploads created in a time window.
    if result.get("created") and job.params.get("source", "csv") == Source.CSV and job.user_id == user.pk:
        end = job.finished_at or timezone.now()
        outcome["rows_url"] = "{}?{}={}".format(
            reverse("admin:takedown_infringingurl_changelist"),
            UploadFilter.parameter_name,
            UploadFilter.value_for(job.created_at, end),
        )
    return outcome


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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if job is not None:
            extra.update(job_outcome(job, request.user))
        return super().change_view(request, object_id, form_url, extra)

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
