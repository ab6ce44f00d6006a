"""Agencies, their users and artists (with rights records), and the platform registry."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from takedown import authority
from takedown.admin.base import AgencyScoped, ReadOnly
from takedown.admin.intake import prepare_notices
from takedown.choices import LegalRoute, URLStatus
from takedown.errors import Invalid, NotAllowed
from takedown.models import (
    Agency,
    Artist,
    Authorization,
    AuthorizationDocument,
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
    fields = ["title", "kind", "owner", "owner_kind", "registration", "original_url"]


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
        fields = ["agency", "name", "name_ko", "slug", "is_group", "aliases", "official_accounts", "notes"]


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
    list_display = ["title", "artist", "kind", "owner", "owner_kind", "registration"]
    list_filter = ["kind", "owner_kind"]
    search_fields = ["title", "artist__name", "artist__name_ko"]
    autocomplete_fields = ["artist"]


class AuthorizationForm(forms.ModelForm):
    routes = forms.MultipleChoiceField(
        label=_("legal routes"),
        choices=LegalRoute.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The routes on which the agency may act for the person."),
    )

    class Meta:
        model = Authorization
        fields = [
            "artist",
            "person_name",
            "person_name_ko",
            "scope",
            "routes",
            "valid_from",
            "valid_until",
            "revoked_at",
        ]


class DocumentUploadForm(forms.ModelForm):
    """A new document: a PDF, stored by the service (authority.authorization_document_add)."""

    upload = forms.FileField(label=_("file (PDF)"), required=False)

    class Meta:
        model = AuthorizationDocument
        fields = ["kind"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("kind") and not data.get("upload"):
            raise forms.ValidationError({"upload": _("Choose the PDF to upload.")})
        return data


class AuthorizationDocumentInline(admin.TabularInline):
    """Shown to legal reviewers only: the inline asks the role's view permission, and the rows
    come through AuthorizationDocument.visible_to. Never rendered: a download link only."""

    model = AuthorizationDocument
    form = DocumentUploadForm
    extra = 0
    fields = ["kind", "upload", "download", "size", "sha256", "uploaded_at", "uploaded_by"]
    readonly_fields = ["download", "size", "sha256", "uploaded_at", "uploaded_by"]

    def get_queryset(self, request):
        return AuthorizationDocument.objects.visible_to(request.user).select_related("uploaded_by")

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("document"))
    def download(self, document: AuthorizationDocument) -> str:
        if document.pk is None:
            return "–"
        url = reverse("admin:takedown_authorization_document", args=[document.authorization_id, document.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download (PDF)"))


@admin.register(Authorization)
class AuthorizationAdmin(AgencyScoped, admin.ModelAdmin):
    """An artist's authorization of the agency, per person (for a group: per member)."""

    form = AuthorizationForm
    list_display = [
        "person_name",
        "person_name_ko",
        "artist",
        "valid_from",
        "valid_until",
        "revoked_at",
        "route_list",
    ]
    list_filter = ["artist"]
    search_fields = ["person_name", "person_name_ko", "artist__name", "artist__name_ko"]
    autocomplete_fields = ["artist"]
    inlines = [AuthorizationDocumentInline]

    @admin.display(description=_("legal routes"))
    def route_list(self, obj: Authorization) -> str:
        labels = dict(LegalRoute.choices)
        return "; ".join(str(labels.get(route, route)) for route in obj.routes or [])

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not AuthorizationDocument:
            return super().save_formset(request, form, formset, change)
        # New documents go through the service (role, PDF check, private storage).
        added = []
        for document_form in formset.extra_forms:
            upload = document_form.cleaned_data.get("upload") if document_form.has_changed() else None
            if not upload:
                continue
            try:
                added.append(
                    authority.authorization_document_add(
                        user=request.user,
                        authorization_id=form.instance.pk,
                        kind=document_form.cleaned_data["kind"],
                        name=upload.name,
                        content=upload.read(),
                    )
                )
            except (Invalid, NotAllowed) as exc:
                messages.error(request, str(exc))
        doomed = [f.instance for f in formset.deleted_forms if f.instance.pk]
        for document in doomed:
            document.file.delete(save=False)
            document.delete()
        formset.new_objects, formset.changed_objects, formset.deleted_objects = added, [], doomed

    def get_urls(self):
        return [
            path(
                "<int:pk>/document/<int:document_pk>/",
                self.admin_site.admin_view(self.document_view),
                name="takedown_authorization_document",
            ),
            *super().get_urls(),
        ]

    def document_view(self, request: HttpRequest, pk: int, document_pk: int):
        """The document as a download, for legal reviewers of the agency only."""
        if not request.user.has_perm("takedown.view_authorizationdocument"):
            raise PermissionDenied
        document = (
            AuthorizationDocument.objects.visible_to(request.user)
            .filter(pk=document_pk, authorization_id=pk)
            .first()
        )
        if document is None:
            raise Http404
        response = FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=f"{document.kind}-{document.authorization_id}.pdf",
            content_type="application/pdf",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


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
