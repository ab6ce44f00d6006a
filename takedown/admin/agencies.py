"""Agencies, their users and artists (with rights records), and the platform registry."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from takedown.admin.base import AgencyScoped, ReadOnly
from takedown.admin.intake import prepare_notices
from takedown.choices import URLStatus
from takedown.models import (
    Agency,
    Artist,
    Erasure,
    Platform,
    RightsRecord,
    User,
)


@admin.register(Agency)
class AgencyAdmin(AgencyScoped, admin.ModelAdmin):
    list_display = ["name", "name_ko", "email", "signatory_name", "artist_count"]
    search_fields = ["name", "name_ko", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_artists=Count("artists"))

    @admin.display(description=_("artists"), ordering="_artists")
    def artist_count(self, obj: Agency) -> int:
        return obj._artists


@admin.register(User)
class UserAdmin(AgencyScoped, BaseUserAdmin):
    list_display = ["username", "email", "agency", "role", "is_active", "is_staff", "last_login"]
    list_filter = ["role", "agency", "is_active", "is_staff"]
    fieldsets = BaseUserAdmin.fieldsets + ((_("Agency"), {"fields": ["agency", "role"]}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + ((_("Agency"), {"fields": ["agency", "role"]}),)


class RightsInline(admin.TabularInline):
    model = RightsRecord
    extra = 0
    fields = ["title", "kind", "owner", "registration", "original_url"]


class JSONListField(forms.CharField):
    """A JSON list edited as one value per line."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 60})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class ArtistForm(forms.ModelForm):
    aliases = JSONListField(required=False, help_text=_("One name per line."))
    official_accounts = JSONListField(
        required=False,
        help_text=_(
            "One per line: an account URL (https://x.com/artist) or a whole domain (artist.com). "
            "URLs on these are refused at intake."
        ),
    )

    class Meta:
        model = Artist
        fields = ["agency", "name", "name_ko", "slug", "aliases", "official_accounts", "notes"]


@admin.register(Artist)
class ArtistAdmin(AgencyScoped, admin.ModelAdmin):
    form = ArtistForm
    list_display = ["name", "name_ko", "agency", "open_urls", "removed_urls"]
    list_filter = ["agency"]
    search_fields = ["name", "name_ko", "slug", "aliases"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [RightsInline]
    actions = ["prepare_notices"]

    @admin.action(
        description=_("Prepare notices for all open URLs of the selected artists"), permissions=["change"]
    )
    def prepare_notices(self, request, queryset):
        prepare_notices(self, request, artist_ids=list(queryset.values_list("pk", flat=True)))

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _open=Count("urls", filter=Q(urls__status__in=[URLStatus.OPEN, URLStatus.NOTIFIED])),
                _removed=Count("urls", filter=Q(urls__status=URLStatus.REMOVED)),
            )
            .order_by("name")  # GROUP BY queries drop Meta.ordering
        )

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not request.user.is_superuser:
            fields = [f for f in fields if f != "agency"]
        return fields

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.agency_id = request.user.agency_id
        super().save_model(request, obj, form, change)

    @admin.display(description=_("open URLs"), ordering="_open")
    def open_urls(self, obj: Artist) -> int:
        return obj._open

    @admin.display(description=_("removed"), ordering="_removed")
    def removed_urls(self, obj: Artist) -> int:
        return obj._removed


@admin.register(RightsRecord)
class RightsRecordAdmin(AgencyScoped, admin.ModelAdmin):
    list_display = ["title", "artist", "kind", "owner", "registration"]
    list_filter = ["kind"]
    search_fields = ["title", "artist__name", "artist__name_ko"]
    autocomplete_fields = ["artist"]


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "host_list",
        "channel_kind",
        "default_route",
        "response_deadline_hours",
        "is_active",
    ]
    list_filter = ["channel_kind", "default_route", "is_active"]
    search_fields = ["name", "slug", "hosts"]

    @admin.display(description=_("hosts"))
    def host_list(self, obj: Platform) -> str:
        return ", ".join(obj.hosts)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Erasure)
class ErasureAdmin(AgencyScoped, ReadOnly, admin.ModelAdmin):
    """Erasures done on an artist's request (manage.py erase_artist): who, when, how much."""

    list_display = ["__str__", "agency", "performed_by", "at", "finished_at"]
    fields = ["agency", "artist_ref", "performed_by", "operator", "at", "deleted", "kept", "finished_at"]
    readonly_fields = fields
