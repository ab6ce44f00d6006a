"""API tokens in the admin, scoped like every other admin page.

Managers (and superusers) issue and revoke tokens for users of their own agency; the list shows
each token's first characters, expiry, last use and state, never a key. The key is shown once,
on the page that answers the issue, and is not kept anywhere. Revoking keeps the row, so the
list still tells who held which key until when; only superusers delete rows.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from takedown import tokens
from takedown.choices import Role
from takedown.models import APIToken, User, scope


class IssueForm(forms.ModelForm):
    days = forms.IntegerField(label=_("valid for (days)"), min_value=1)

    class Meta:
        model = APIToken
        fields = ("user", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read per form, so a changed setting (or override_settings) applies without a restart.
        self.fields["days"] = forms.IntegerField(
            label=_("valid for (days)"),
            min_value=1,
            max_value=settings.TAKEDOWN_TOKEN_MAX_DAYS,
            initial=settings.TAKEDOWN_TOKEN_DAYS,
            help_text=_("The token stops working after this many days."),
        )

    def clean(self):
        data = super().clean()
        user = data.get("user")
        if user is not None and user.is_superuser:
            # A superuser's token spans every agency: issued only from the server's command line.
            self.add_error("user", _("Superusers' tokens are issued with manage.py issue_token only."))
        return data


class APITokenAdmin(admin.ModelAdmin):
    list_display = (
        "prefix_shown",
        "user",
        "user_agency",
        "user_role",
        "created",
        "expires_at",
        "last_used_at",
        "state_shown",
    )
    list_select_related = ("user", "user__agency")
    list_filter = ("user__role", "created", "revoked_at")
    search_fields = ("user__username", "prefix", "note")
    actions = ["revoke"]
    readonly_fields = (
        "user",
        "prefix",
        "note",
        "created",
        "created_by",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )

    def get_queryset(self, request):
        return scope(super().get_queryset(request).select_related("user", "user__agency"), request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = IssueForm
            kwargs["fields"] = ("user", "days", "note")
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return ("user", "days", "note") if obj is None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            users = User.objects.filter(is_active=True, is_superuser=False).order_by("username")
            if not request.user.is_superuser:
                # API clients only: see takedown.tokens on tokens for people.
                users = users.filter(agency_id=request.user.agency_id, role=Role.API)
            kwargs["queryset"] = users
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field is read-only once issued
        issued = tokens.token_issue(
            user=form.cleaned_data["user"],
            days=form.cleaned_data["days"],
            note=form.cleaned_data.get("note", ""),
            created_by=request.user,
        )
        obj.pk = issued.token.pk
        obj.__dict__.update({k: v for k, v in issued.token.__dict__.items() if not k.startswith("_")})
        request._issued_key = issued.key

    def response_add(self, request, obj, post_url_continue=None):
        # The key is on this page only: not in a message (a cookie), a log or the list.
        response = TemplateResponse(
            request,
            "admin/takedown/apitoken/issued.html",
            {
                **self.admin_site.each_context(request),
                "title": _("API token issued"),
                "opts": self.opts,
                "token": obj,
                "key": request._issued_key,
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        count = tokens.token_revoke(
            token_ids=list(queryset.values_list("pk", flat=True)), revoked_by=request.user
        )
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.display(description=_("key starts with"), ordering="prefix")
    def prefix_shown(self, obj) -> str:
        return f"{obj.prefix}…"

    @admin.display(description=_("state"))
    def state_shown(self, obj) -> str:
        return {"active": _("active"), "expired": _("expired"), "revoked": _("revoked")}[obj.state]

    @admin.display(description=_("agency"), ordering="user__agency__name")
    def user_agency(self, obj) -> str:
        return str(obj.user.agency or "—")

    @admin.display(description=_("role"), ordering="user__role")
    def user_role(self, obj) -> str:
        return obj.user.get_role_display()


def register(site: admin.AdminSite = admin.site) -> None:
    if not site.is_registered(APIToken):
        site.register(APIToken, APITokenAdmin)
