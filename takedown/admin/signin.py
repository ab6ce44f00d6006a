"""The sign-in audit list: read-only, each manager sees their own agency's events.

A failure for a user name that does not exist belongs to no agency: only superusers see it,
so a manager cannot learn which names someone tried against other agencies.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from takedown.models import SignInEvent, scope


class SignInEventAdmin(admin.ModelAdmin):
    list_display = ("at", "username", "outcome", "ip", "short_agent")
    list_filter = ("outcome", "at")
    search_fields = ("username", "ip")
    date_hierarchy = "at"
    list_select_related = ("agency",)
    list_per_page = 100

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user)

    def get_list_display(self, request):
        return (*self.list_display, "agency") if request.user.is_superuser else self.list_display

    def get_list_filter(self, request):
        return (*self.list_filter, "agency") if request.user.is_superuser else self.list_filter

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("browser"))
    def short_agent(self, obj) -> str:
        return browser_summary(obj.user_agent)


_BROWSERS = ("Edg/", "OPR/", "Firefox/", "SamsungBrowser/", "Whale/", "Chrome/", "Safari/")
_SYSTEMS = ("Windows", "Android", "iPhone", "iPad", "Mac OS X", "CrOS", "Linux")


def browser_summary(agent: str) -> str:
    """ "Chrome 140 · Linux" from a user-agent string; the full string stays on the row."""
    browser = next((b for b in _BROWSERS if b in agent), None)
    system = next((s for s in _SYSTEMS if s in agent), None)
    if browser is None:
        return agent[:40] + ("…" if len(agent) > 40 else "")
    version = agent.split(browser, 1)[1].split(".", 1)[0].split(" ", 1)[0]
    name = {"Edg/": "Edge", "OPR/": "Opera"}.get(browser, browser.rstrip("/"))
    return f"{name} {version}" + (f" · {system}" if system else "")


def register(site: admin.AdminSite = admin.site) -> None:
    if not site.is_registered(SignInEvent):
        site.register(SignInEvent, SignInEventAdmin)
