"""Accounts (repeat offenders first), cases and their dossiers, and the chain's heads of the day."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from takedown import cases, chain, jobs
from takedown.admin.base import AgencyScoped, ReadOnly
from takedown.choices import CaseStatus
from takedown.errors import Conflict, Invalid, NotAllowed
from takedown.models import Account, Case, CaseEvent, ChainAnchor, Job, scope
from takedown.roles import role_has

URLS_SHOWN = 200  # on the case page; the dossier has every one


def _event_summary(event: CaseEvent) -> str:
    """A person's reading of a timeline line's data (the stored data stays as recorded)."""
    data = event.data or {}
    if event.kind == "dossier_exported":
        return gettext("%(urls)s URLs, ZIP SHA-256 %(sha)s") % {
            "urls": data.get("urls", 0),
            "sha": data.get("sha256", ""),
        }
    if "urls" in data:
        return gettext("%(n)s URLs") % {"n": data["urls"]}
    if event.kind == "changed":
        names = []
        for key in sorted(k for k in data if k != "status"):
            try:
                names.append(str(Case._meta.get_field(key.removesuffix("_id")).verbose_name))
            except Exception:
                names.append(key)
        return ", ".join(names)
    return ""


def propose_case_of_urls(request, url_ids: list[int]):
    """The URL list's action: a case of the URLs picked by hand."""
    try:
        case = cases.case_create(
            user=request.user,
            title=gettext("%(n)d URLs grouped by hand") % {"n": len(url_ids)},
            url_ids=url_ids,
        )
    except (Invalid, NotAllowed) as exc:
        messages.error(request, str(exc))
        return None
    return HttpResponseRedirect(reverse("admin:takedown_case_change", args=[case.pk]))


@admin.register(Account)
class AccountAdmin(AgencyScoped, ReadOnly, admin.ModelAdmin):
    """Who posted the agency's URLs; the accounts with the most items first (repeat offenders)."""

    list_display = [
        "handle",
        "platform",
        "kind",
        "url_count",
        "artist_count",
        "names",
        "first_seen",
        "last_seen",
    ]
    list_filter = ["platform", "kind"]
    search_fields = ["handle"]
    fields = ["platform", "kind", "handle", "names_seen", "first_seen", "last_seen"]
    readonly_fields = fields
    actions = ["propose_case"]

    def get_queryset(self, request):
        # Annotated before the scoping and ordering (the admin's own get_queryset orders first).
        qs = Account.objects.with_url_counts().select_related("platform")
        return scope(qs, request.user).order_by("-url_count", "-last_seen", "pk")

    @admin.display(description=_("URLs"), ordering="url_count")
    def url_count(self, account: Account) -> int:
        return account.url_count

    @admin.display(description=_("artists"), ordering="artist_count")
    def artist_count(self, account: Account) -> int:
        return account.artist_count

    @admin.display(description=_("names seen"))
    def names(self, account: Account) -> str:
        return ", ".join(account.names_seen)

    def has_propose_permission(self, request) -> bool:
        return role_has(request.user, "add_case")

    @admin.action(description=_("Propose a case of the selected accounts' URLs"), permissions=["propose"])
    def propose_case(self, request, queryset):
        handles = [a.handle for a in queryset[:5]]
        try:
            case = cases.case_create(
                user=request.user,
                title=gettext("Accounts: %(handles)s") % {"handles": ", ".join(handles)},
                account_ids=list(queryset.values_list("pk", flat=True)),
            )
        except (Invalid, NotAllowed) as exc:
            messages.error(request, str(exc))
            return None
        return HttpResponseRedirect(reverse("admin:takedown_case_change", args=[case.pk]))


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ["when", "what", "who", "details"]
    readonly_fields = fields
    verbose_name_plural = _("timeline")

    @admin.display(description=_("time"))
    def when(self, event: CaseEvent) -> str:
        return date_format(timezone.localtime(event.at), "DATETIME_FORMAT")

    @admin.display(description=_("event"))
    def what(self, event: CaseEvent) -> str:
        return cases.event_label(event.kind)

    @admin.display(description=_("by"))
    def who(self, event: CaseEvent) -> str:
        return (event.actor.get_full_name() or event.actor.username) if event.actor else "—"

    @admin.display(description=_("details"))
    def details(self, event: CaseEvent) -> str:
        return event.detail or _event_summary(event)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(AgencyScoped, admin.ModelAdmin):
    """Cases: staff propose, legal reviewers take them on, change, close and export them."""

    list_display = ["__str__", "status", "legal_owner", "url_total", "created_at"]
    list_filter = ["status"]
    search_fields = ["title", "law_firm_reference", "police_reference"]
    fields = [
        "title",
        "notes",
        "law_firm_reference",
        "police_reference",
        "status",
        "legal_owner",
        "created_by",
    ]
    readonly_fields = ["status", "legal_owner", "created_by"]
    inlines = [CaseEventInline]
    change_form_template = "admin/takedown/case/change_form.html"

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(url_total=Count("case_urls")).select_related("legal_owner")
        )

    @admin.display(description=_("URLs"), ordering="url_total")
    def url_total(self, case: Case) -> int:
        return case.url_total

    def get_fields(self, request, obj=None):
        return ["title", "notes"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and (obj.status == CaseStatus.CLOSED or not role_has(request.user, "change_case")):
            return self.fields
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # a case is evidence: closed, never deleted

    def has_change_permission(self, request, obj=None):
        # A closed case is shown as it was closed: no form, no Save (the services refuse too).
        if obj is not None and obj.status == CaseStatus.CLOSED:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # Through the services, so that every change is on the case's timeline and in the chain.
        if not change:
            created = cases.case_create(user=request.user, title=obj.title, notes=obj.notes)
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        fields = {f: form.cleaned_data[f] for f in form.changed_data if f in cases.CHANGEABLE}
        if fields:
            cases.case_update(user=request.user, case_id=obj.pk, **fields)

    def save_related(self, request, form, formsets, change):
        pass  # the timeline is written by the services only

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, object_id)
        extra = extra_context or {}
        if case is not None:
            urls = case.urls.select_related("platform", "account").order_by("pk")
            user = request.user
            extra.update(
                {
                    "case_urls": urls[:URLS_SHOWN],
                    "case_url_count": urls.count(),
                    "may_take": case.status == CaseStatus.PROPOSED and role_has(user, "change_case"),
                    "may_close": case.status == CaseStatus.OPEN and role_has(user, "change_case"),
                    "may_export": role_has(user, "export_dossier"),
                    "show_save_and_add_another": False,
                    "dossier_jobs": Job.objects.filter(
                        kind=Job.Kind.DOSSIER, params__case_id=case.pk, agency_id=case.agency_id
                    ).order_by("-created_at")[:5],
                }
            )
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/do/<str:action>/", wrap(self.action_view), name="takedown_case_action"),
            path("<int:pk>/dossier/", wrap(self.dossier_view), name="takedown_case_dossier"),
            path(
                "dossier/<int:job_id>/download/",
                wrap(self.download_view),
                name="takedown_case_dossier_download",
            ),
            *super().get_urls(),
        ]

    def _case(self, request, pk: int) -> Case:
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def action_view(self, request: HttpRequest, pk: int, action: str):
        if request.method != "POST":
            return HttpResponse(status=405)
        case = self._case(request, pk)
        try:
            if action == "take":
                cases.case_take(user=request.user, case_id=case.pk)
            elif action == "close":
                cases.case_close(user=request.user, case_id=case.pk, reason=request.POST.get("reason", ""))
            else:
                raise Http404
        except (Conflict, Invalid, NotAllowed) as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("admin:takedown_case_change", args=[case.pk]))

    def dossier_view(self, request: HttpRequest, pk: int):
        if request.method != "POST":
            return HttpResponse(status=405)
        case = self._case(request, pk)
        locale = request.POST.get("locale") if request.POST.get("locale") in ("en", "ko") else "en"
        try:
            result = jobs.dossier_export_now_or_later(user=request.user, case_id=case.pk, locale=locale)
        except (Invalid, NotAllowed) as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("admin:takedown_case_change", args=[case.pk]))
        if isinstance(result, Job):
            messages.info(
                request,
                gettext("Case #%(pk)d has %(n)d URLs: its dossier is being written in the background.")
                % {"pk": case.pk, "n": result.total},
            )
            return HttpResponseRedirect(reverse("admin:takedown_job_change", args=[result.pk]))
        response = HttpResponse(result, content_type="application/zip")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="case-{case.pk}-dossier-{stamp}.zip"'
        return response

    def download_view(self, request: HttpRequest, job_id: int):
        if not role_has(request.user, "export_dossier"):
            raise PermissionDenied
        job = get_object_or_404(
            Job.objects.visible_to(request.user), pk=job_id, kind=Job.Kind.DOSSIER, state=Job.State.DONE
        )
        return jobs.dossier_file_response(job)


@admin.register(ChainAnchor)
class ChainAnchorAdmin(AgencyScoped, ReadOnly, admin.ModelAdmin):
    """The hash chain's head of each day: what the agency can send its law firm as an outside anchor."""

    list_display = ["day", "seq", "head_sha256", "recorded_at"]
    change_list_template = "admin/takedown/chainanchor/change_list.html"

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="takedown_chainanchor_export"),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        agency = request.user.agency
        if agency is None:
            raise Http404  # a superuser: export from an agency's own account
        text = chain.anchors_text(agency, self.get_queryset(request).order_by("day"))
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{agency.slug}-chain-heads.txt"'
        return response
