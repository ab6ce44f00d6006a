"""What every admin page of the agency shares: one scoping rule, read-only records."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest

from takedown.models import (
    Agency,
    scope,
    visible,
)


class ReadOnly:
    """Records of what happened (evidence, audit events): shown, never edited or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A "By <relation>" filter whose choices are only what the user's agency may see.

    Django's own filter lists every row of the related table, whatever the admin's queryset
    is scoped to: another agency's artist names and ids would show in the sidebar.
    """

    def field_choices(self, field, request, model_admin):
        ordering = (
            self.field_admin_ordering(field, request, model_admin) or field.related_model._meta.ordering
        )
        qs = visible(field.related_model, request.user)
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in qs]


class AgencyScoped:
    """Scopes an admin to the user's agency through `models.visible` (superusers see every
    agency): its rows, the choices of its foreign keys and of its "By …" filters, and the
    autocompletes that search it. A filter "By agency" is shown to superusers only.
    """

    def get_queryset(self, request: HttpRequest):
        return scope(super().get_queryset(request), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", visible(db_field.related_model, request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if hasattr(db_field.related_model._default_manager.all(), "visible_to"):
            kwargs.setdefault("queryset", visible(db_field.related_model, request.user))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request: HttpRequest):
        scoped = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str):
                field = _relation(self.model, entry)
                if field is not None:
                    if field.related_model is Agency and not request.user.is_superuser:
                        continue
                    entry = (entry, ScopedRelatedFilter)
            scoped.append(entry)
        return scoped


def _relation(model, lookup: str):
    """The foreign key or many-to-many field a list_filter entry names, or None."""
    try:
        field = model._meta.get_field(lookup)
    except FieldDoesNotExist:  # a lookup across relations ("user__role") or a filter class
        return None
    return field if getattr(field, "is_relation", False) and field.related_model is not None else None
