"""Explicit filtersets for the list endpoints.

`artist` takes an id or a slug and filters within the querysets the views have already scoped
to the caller's agency, so naming another agency's artist yields an empty list, not a leak.
"""

from __future__ import annotations

from datetime import UTC

import django_filters as filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters.fields import IsoDateTimeField

from takedown.choices import Category, LegalRoute, NoticeStatus, URLStatus, Verdict
from takedown.models import AbuseContact, Artist, InfringingURL, Notice, url_text_match


class _UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time read in any offset Python accepts (up to ±23:59) and handed to the
    database in UTC: PostgreSQL refuses offsets past ±15:59, which made a valid query a 500."""

    def clean(self, value):
        value = super().clean(value)
        if value is not None and timezone.is_aware(value):
            value = value.astimezone(UTC)
        return value


class UTCIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = _UTCIsoDateTimeField


def _artist_filter(field: str):
    def method(queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if value.isascii() and value.isdigit() and len(value) <= 18:
            return queryset.filter(**{f"{field}_id": int(value)})
        return queryset.filter(**{f"{field}__slug": value})

    return method


class ContactFilter(filters.FilterSet):
    host = filters.CharFilter(method="by_host", label="Host name (lower case, no port)")

    class Meta:
        model = AbuseContact
        fields: list[str] = []

    def by_host(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(host=value.strip().lower().rstrip("."))


class ArtistFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label="Text in the name, Korean name or slug")

    class Meta:
        model = Artist
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(name__icontains=value) | Q(name_ko__icontains=value) | Q(slug__icontains=value)
        )


class URLFilter(filters.FilterSet):
    artist = filters.CharFilter(method=_artist_filter("artist"), label="Artist id or slug")
    platform = filters.CharFilter(field_name="platform__slug", label="Platform slug")
    status = filters.MultipleChoiceFilter(choices=URLStatus.choices)
    category = filters.MultipleChoiceFilter(choices=Category.choices)
    legal_route = filters.MultipleChoiceFilter(choices=LegalRoute.choices)
    last_verdict = filters.ChoiceFilter(choices=Verdict.choices)
    q = filters.CharFilter(method="search", label="Text in the normalised URL or the note")
    discovered_after = UTCIsoDateTimeFilter(field_name="discovered_at", lookup_expr="gte")
    discovered_before = UTCIsoDateTimeFilter(field_name="discovered_at", lookup_expr="lt")
    updated_after = UTCIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="Changed at or after (for syncing status)"
    )
    overdue = filters.BooleanFilter(field_name="overdue_since", lookup_expr="isnull", exclude=True)

    class Meta:
        model = InfringingURL
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(url_text_match(value))


class NoticeFilter(filters.FilterSet):
    artist = filters.CharFilter(method=_artist_filter("artist"), label="Artist id or slug")
    platform = filters.CharFilter(field_name="platform__slug", label="Platform slug")
    status = filters.MultipleChoiceFilter(choices=NoticeStatus.choices)
    legal_route = filters.MultipleChoiceFilter(choices=LegalRoute.choices)

    class Meta:
        model = Notice
        fields: list[str] = []
