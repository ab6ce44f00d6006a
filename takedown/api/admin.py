"""API tokens in the admin, scoped like every other admin page.

DRF's own TokenAdmin lists every user's token. This one shows, and offers for issuing, only the
users of the admin user's agency (superusers: all). Roles grant no token permissions, so by
default only superusers manage tokens; a superuser may grant a user the authtoken
permissions explicitly, and that user then manages tokens of their own agency only.
Deleting a token revokes it at once.
"""

from __future__ import annotations

from django.contrib import admin, messages
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from takedown.models import User


class AgencyTokenAdmin(TokenAdmin):
    list_display = ("user", "user_agency", "user_role", "created")
    list_select_related = ("user", "user__agency")
    list_filter = ("user__role", "created")

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user", "user__agency")
        if request.user.is_superuser:
            return qs
        return qs.filter(user__agency_id=request.user.agency_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            users = User.objects.filter(is_active=True).order_by("username")
            if not request.user.is_superuser:
                users = users.filter(agency_id=request.user.agency_id)
            kwargs["queryset"] = users
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj is not None else ()

    def response_add(self, request, obj, post_url_continue=None):
        # The key is shown this once; the list never shows keys.
        self.message_user(
            request,
            f"Token for {obj.user}: {obj.key} — copy it now, it is not shown again. "
            "Deleting the token revokes it.",
            messages.WARNING,
        )
        return super().response_add(request, obj, post_url_continue)

    @admin.display(description="agency", ordering="user__agency__name")
    def user_agency(self, obj) -> str:
        return str(obj.user.agency or "—")

    @admin.display(description="role", ordering="user__role")
    def user_role(self, obj) -> str:
        return obj.user.get_role_display()


def register(site: admin.AdminSite = admin.site) -> None:
    if site.is_registered(TokenProxy):
        site.unregister(TokenProxy)
    site.register(TokenProxy, AgencyTokenAdmin)
