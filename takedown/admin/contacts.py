"""Abuse contacts of unlisted hosts, their lookups, the escalation ladder's steps, and the
recipient view (removal rate and median time per recipient)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from takedown import escalation
from takedown.admin.base import AgencyScoped, ReadOnly
from takedown.contacts import services
from takedown.errors import Conflict, Invalid, NotAllowed
from takedown.models import AbuseContact, ContactSetAside, EscalationStep, HostLookup, InfringingURL
from takedown.roles import role_has


class ContactForm(forms.ModelForm):
    class Meta:
        model = AbuseContact
        fields = ["host", "rung", "name", "email", "url", "note"]


@admin.register(AbuseContact)
class AbuseContactAdmin(AgencyScoped, admin.ModelAdmin):
    """Staff add a contact, or correct a discovered one (theirs is kept over rediscovery)."""

    form = ContactForm
    list_display = [
        "host",
        "rung",
        "name",
        "email",
        "url",
        "source",
        "is_current",
        "shown_set_aside",
        "found_at",
    ]
    list_filter = ["rung", "source", "is_current"]
    search_fields = ["host", "name", "email"]
    readonly_fields = ["agency", "source", "source_url", "raw_sha256", "found_at", "is_current", "added_by"]
    actions = ["discover_again", "set_aside"]
    change_list_template = "admin/takedown/abusecontact/change_list.html"

    def get_queryset(self, request):
        # Set aside by the viewer's agency (a superuser sees any agency's set-asides).
        mine = ContactSetAside.objects.filter(contact=OuterRef("pk"))
        if not request.user.is_superuser:
            mine = mine.filter(agency_id=request.user.agency_id)
        return super().get_queryset(request).annotate(set_aside_here=Exists(mine))

    @admin.display(description=_("set aside"), boolean=True)
    def shown_set_aside(self, obj: AbuseContact) -> bool:
        return bool(getattr(obj, "set_aside_here", False))

    @admin.action(
        description=_("Set the selected discovered contacts aside for your agency"), permissions=["change"]
    )
    def set_aside(self, request, queryset):
        done = 0
        for contact in queryset.exclude(source=AbuseContact.Source.STAFF)[:100]:
            try:
                services.contact_set_aside(
                    user=request.user, contact_id=contact.pk, reason=str(_("Set aside by staff in the admin"))
                )
                done += 1
            except (Invalid, NotAllowed) as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
        self.message_user(
            request, _("%(n)d contact(s) set aside for your agency.") % {"n": done}, messages.SUCCESS
        )

    def has_delete_permission(self, request, obj=None):
        return False  # a sent notice may name it; correct it instead

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            saved = services.contact_save(
                user=request.user,
                host=data["host"],
                rung=data["rung"],
                name=data["name"],
                email=data.get("email", ""),
                url=data.get("url", ""),
                note=data.get("note", ""),
                contact_id=obj.pk if change else None,
            )
        except (Invalid, NotAllowed) as exc:
            messages.error(request, str(exc))
            return
        obj.pk = saved.pk

    def response_change(self, request, obj):
        # A corrected discovered contact is a new row (staff's own): show that one.
        return HttpResponseRedirect(reverse("admin:takedown_abusecontact_changelist") + f"?q={obj.host}")

    @admin.action(description=_("Discover the selected hosts' contacts again"), permissions=["change"])
    def discover_again(self, request, queryset):
        hosts = sorted(set(queryset.values_list("host", flat=True)))[:10]
        for host in hosts:
            lookup = services.host_discover(target=host, force=True)
            unknown = [s["detail"] for s in lookup.steps if s["outcome"] == "unknown"]
            level = messages.WARNING if unknown else messages.SUCCESS
            self.message_user(request, f"{host}: " + ("; ".join(unknown) or _("looked up")), level)

    def get_urls(self):
        return [
            path(
                "recipients/",
                self.admin_site.admin_view(self.recipients_view),
                name="takedown_abusecontact_recipients",
            ),
            *super().get_urls(),
        ]

    def recipients_view(self, request: HttpRequest):
        """Hosts and contacts with each recipient's removal rate and median time to removal."""
        agency = None if request.user.is_superuser else request.user.agency
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Recipients of unlisted hosts' notices and escalations"),
            "rows": escalation.recipient_figures(agency),
        }
        return TemplateResponse(request, "admin/takedown/abusecontact/recipients.html", context)


@admin.register(HostLookup)
class HostLookupAdmin(ReadOnly, AgencyScoped, admin.ModelAdmin):
    list_display = ["host", "shown_addresses", "looked_up_at", "expires_at"]
    search_fields = ["host"]
    fields = ["host", "shown_addresses", "looked_up_at", "expires_at", "shown_steps"]
    readonly_fields = fields

    @admin.display(description=_("addresses"))
    def shown_addresses(self, obj: HostLookup) -> str:
        return ", ".join(obj.addresses) or "–"

    @admin.display(description=_("what was asked"))
    def shown_steps(self, obj: HostLookup) -> str:
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} — {}: {} <code>{}</code> {}</li>",
                (
                    (s["source"], s["outcome"], s["detail"], s["url"], (s.get("sha256") or "")[:16])
                    for s in obj.steps
                ),
            ),
        )


class SkipForm(forms.Form):
    reason = forms.CharField(label=_("Why is this step skipped?"), widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(EscalationStep)
class EscalationStepAdmin(ReadOnly, AgencyScoped, admin.ModelAdmin):
    list_display = ["url", "rung", "state", "shown_recipient", "notice", "created_at", "decided_by"]
    list_filter = ["state", "rung"]
    list_select_related = ["url", "contact", "platform", "notice", "decided_by"]
    fields = [
        "url",
        "rung",
        "state",
        "shown_recipient",
        "notice",
        "reason",
        "created_at",
        "decided_by",
        "decided_at",
    ]
    readonly_fields = fields
    change_form_template = "admin/takedown/escalationstep/change_form.html"

    @admin.display(description=_("recipient"))
    def shown_recipient(self, obj: EscalationStep) -> str:
        return obj.recipient or "–"

    def get_urls(self):
        return [
            path(
                "<int:pk>/skip/",
                self.admin_site.admin_view(self.skip_view),
                name="takedown_escalationstep_skip",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "skip_form": SkipForm(),
            "may_skip": role_has(request.user, "review_notice"),
            # A draft, a rejected notice waiting for its revision, a cancelled one: legal may
            # pass over the rung instead.
            "skippable_states": [*escalation.UNDECIDED, EscalationStep.State.CANCELLED],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def skip_view(self, request: HttpRequest, pk: int):
        step = get_object_or_404(self.get_queryset(request), pk=pk)
        back = reverse("admin:takedown_escalationstep_change", args=[step.pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        form = SkipForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Say why this step is skipped."))
            return HttpResponseRedirect(back)
        try:
            following = escalation.escalation_skip(
                step_id=step.pk, user=request.user, reason=form.cleaned_data["reason"]
            )
        except (Invalid, NotAllowed, Conflict) as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(back)
        if following is not None:
            messages.success(request, _("Skipped. Next step drafted: %(step)s.") % {"step": following})
        else:
            messages.success(request, _("Skipped. No further step is left on the ladder."))
        return HttpResponseRedirect(reverse("admin:takedown_infringingurl_change", args=[step.url_id]))


class EscalationStepInline(admin.TabularInline):
    """The URL's ladder: each step, its recipient, its notice and how it ended."""

    model = EscalationStep
    extra = 0
    can_delete = False
    max_num = 0
    fields = ["rung", "state", "shown_recipient", "notice", "reason", "created_at", "decided_by"]
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = _("escalation ladder")

    @admin.display(description=_("recipient"))
    def shown_recipient(self, obj: EscalationStep) -> str:
        return obj.recipient or "–"


def host_contacts_html(url: InfringingURL) -> str:
    """The URL page's list of its host's contacts, each with where it came from."""
    rows = services.host_contacts(url.host, agency_id=url.agency_id)
    if not rows:
        return format_html(
            "{} <code>python manage.py contacts {}</code>",
            _("None known. Discover them with the action on the URL list, or"),
            url.host,
        )
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            '<li>{}: <a href="{}">{}</a> &lt;{}&gt; — {} {}</li>',
            (
                (
                    c.get_rung_display(),
                    reverse("admin:takedown_abusecontact_change", args=[c.pk]),
                    c.name,
                    c.email or c.url,
                    c.get_source_display(),
                    c.source_url,
                )
                for c in rows
            ),
        ),
    )
