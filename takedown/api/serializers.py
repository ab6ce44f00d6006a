"""Serializers for the read endpoints and the few small writes.

The bulk import does not go through here: per-field serializer machinery per row would cost
more than the database insert itself. It hands plain rows to takedown.importing.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from takedown.models import (
    AbuseContact,
    Agency,
    Artist,
    InfringingURL,
    Notice,
    NoticeEvent,
    Platform,
    URLCheck,
)


class ArtistSerializer(serializers.ModelSerializer):
    agency = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Artist
        fields = [
            "id",
            "agency",
            "name",
            "name_ko",
            "slug",
            "aliases",
            "official_accounts",
            "notes",
            "created_at",
        ]


class ArtistCreateSerializer(serializers.ModelSerializer):
    """An artist of the caller's agency; a superuser names the agency by its slug."""

    agency = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Agency.objects.all(),
        required=False,
        help_text="Superusers only (they belong to no agency): the agency's slug. Others: omit it.",
    )
    slug = serializers.SlugField(
        max_length=80,
        required=False,
        help_text="Default: made from the name (must then contain Latin letters).",
    )
    aliases = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=100, default=list
    )
    official_accounts = serializers.ListField(
        child=serializers.CharField(max_length=500),
        required=False,
        max_length=200,
        default=list,
        help_text="URLs on these accounts or domains are refused at intake.",
    )

    class Meta:
        model = Artist
        fields = ["agency", "name", "name_ko", "slug", "aliases", "official_accounts", "notes"]
        validators: list = []  # the (agency, slug) uniqueness is checked in validate(), per agency

    def validate(self, attrs: dict) -> dict:
        user = self.context["request"].user
        if user.is_superuser and user.agency_id is None:
            if attrs.get("agency") is None:
                raise serializers.ValidationError({"agency": "A superuser belongs to no agency: name one."})
        else:
            given = attrs.get("agency")
            if given is not None and given.pk != user.agency_id:
                # Same answer as for an agency that does not exist.
                raise serializers.ValidationError(
                    {"agency": f"Object with slug={given.slug} does not exist."}
                )
            attrs["agency"] = user.agency
        if not attrs.get("slug"):
            attrs["slug"] = slugify(attrs["name"])[:80]
            if not attrs["slug"]:
                raise serializers.ValidationError({"slug": "The name has no Latin letters: give a slug."})
        if Artist.objects.filter(agency=attrs["agency"], slug=attrs["slug"]).exists():
            raise serializers.ValidationError({"slug": "Your agency already has an artist with this slug."})
        return attrs

    def create(self, validated_data: dict) -> Artist:
        try:
            with transaction.atomic():
                return Artist.objects.create(**validated_data)
        except IntegrityError:
            # Two requests raced for the same slug; the constraint decided.
            raise serializers.ValidationError(
                {"slug": "Your agency already has an artist with this slug."}
            ) from None

    def to_representation(self, instance: Artist) -> dict:
        return ArtistSerializer(instance, context=self.context).data


class AbuseContactSerializer(serializers.ModelSerializer):
    email = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)

    class Meta:
        model = AbuseContact
        fields = [
            "id",
            "host",
            "rung",
            "name",
            "email",
            "url",
            "source",
            "source_url",
            "raw_sha256",
            "found_at",
        ]


class PlatformSerializer(serializers.ModelSerializer):
    # Plain text: empty when the platform has no channel of that kind (a blank "email" or "uri"
    # would not be one).
    channel_email = serializers.CharField(read_only=True)
    channel_url = serializers.CharField(read_only=True)

    class Meta:
        model = Platform
        fields = [
            "slug", "name", "hosts", "channel_kind", "channel_email", "channel_url", "default_route",
            "response_deadline_hours", "is_active",
        ]  # fmt: skip


class URLCheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = URLCheck
        fields = [
            "id", "checked_at", "verdict", "reason", "rule", "http_status", "final_url", "redirect_chain",
            "headers", "body_sha256", "title", "excerpt", "error", "elapsed_ms",
        ]  # fmt: skip


_URL_FIELDS = [
    "id", "artist", "url", "normalized_url", "host", "platform", "category", "legal_route", "status",
    "source", "discovered_at", "note", "created_at", "updated_at", "last_checked_at", "last_verdict",
    "notified_at", "deadline_at", "overdue_since", "removed_at", "reupload_count", "same_as",
]  # fmt: skip


class URLSerializer(serializers.ModelSerializer):
    platform = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="Platform slug; null: no known platform.",
    )
    same_as = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="Id of the URL that is the same item (another form of it, or a short link's target); "
        "a linked URL is never noticed, counted or checked on its own.",
    )

    class Meta:
        model = InfringingURL
        fields = _URL_FIELDS


class URLDetailSerializer(URLSerializer):
    checks = URLCheckSerializer(many=True, read_only=True, help_text="Every check of this URL, newest first.")
    notices = serializers.SerializerMethodField(help_text="Ids of the notices that include this URL.")

    class Meta(URLSerializer.Meta):
        fields = [*_URL_FIELDS, "notices", "checks"]

    def get_notices(self, obj: InfringingURL) -> list[int]:
        return [item.notice_id for item in obj.notice_items.all()]


class NoticeEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = NoticeEvent
        fields = ["at", "actor", "from_status", "to_status", "reason"]


_NOTICE_FIELDS = [
    "id", "artist", "platform", "legal_route", "locale", "status", "subject", "url_count",
    "created_by", "created_at", "submitted_at", "reviewed_by", "reviewed_at", "rejection_reason",
    "pdf_sha256", "channel", "recipient", "sent_at", "deadline_at", "reference", "outcome",
]  # fmt: skip


class NoticeSerializer(serializers.ModelSerializer):
    platform = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    subject = serializers.CharField(source="rendered_subject", read_only=True)
    url_count = serializers.IntegerField(read_only=True, help_text="How many URLs the notice lists.")

    class Meta:
        model = Notice
        fields = _NOTICE_FIELDS


class NoticeURLSerializer(serializers.ModelSerializer):
    class Meta:
        model = InfringingURL
        fields = ["id", "normalized_url", "status", "last_verdict", "removed_at"]


class NoticeDetailSerializer(NoticeSerializer):
    urls = serializers.SerializerMethodField()
    events = NoticeEventSerializer(many=True, read_only=True, help_text="The audit trail, oldest first.")
    pdf_url = serializers.SerializerMethodField(help_text="The frozen PDF, once the notice is submitted.")

    class Meta(NoticeSerializer.Meta):
        fields = [*_NOTICE_FIELDS, "pdf_url", "urls", "events"]

    def get_urls(self, obj: Notice) -> list[dict]:
        return NoticeURLSerializer([item.url for item in obj.items.all()], many=True).data

    def get_pdf_url(self, obj: Notice) -> str | None:
        if not obj.pdf_sha256:
            return None
        request = self.context.get("request")
        path = f"/api/v1/notices/{obj.pk}/pdf/"
        return request.build_absolute_uri(path) if request else path


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, help_text="Why the notice is rejected (required).")


class SendSerializer(serializers.Serializer):
    reference = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Web-form channel: the reference number the platform gave on submission.",
    )


class PrepareSerializer(serializers.Serializer):
    urls = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=10_000,
        help_text="Ids of open URLs to put into drafts.",
    )
    artist = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Or: every open URL of this artist."
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("urls") and attrs.get("artist") is None:
            raise serializers.ValidationError("Give `urls` (a list of URL ids) or `artist` (an artist id).")
        return attrs


class PrepareResultSerializer(serializers.Serializer):
    notices = NoticeSerializer(many=True, help_text="The draft notices the URLs are in now.")
    skipped = serializers.IntegerField(help_text="URLs left out: no known platform to notify.")


# -- Shapes documented in the schema (answers built without a serializer) ----------------


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field at fault; empty for the request as a whole.")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = ErrorItemSerializer(many=True)


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Data row number, from 1 (CSV: the header is not counted).")
    field = serializers.CharField()
    message = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="Rows already stored, or repeated within the batch.")
    rejected = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)
    notes = RowErrorSerializer(
        many=True,
        required=False,
        help_text="Rows read differently from how they were pasted (split into several URLs, "
        "a URL taken out of a markdown link or <...>, punctuation after a URL dropped).",
    )


class ImportErrorItemSerializer(serializers.Serializer):
    row = serializers.IntegerField(required=False, help_text="Present for a rejected row.")
    field = serializers.CharField()
    message = serializers.CharField()


class ImportErrorSerializer(serializers.Serializer):
    """A 400 from the import: either the batch could not be read (detail, errors with `field`),
    or rows were rejected and nothing stored (the report's counts and per-row errors)."""

    detail = serializers.CharField()
    created = serializers.IntegerField(required=False)
    duplicates = serializers.IntegerField(required=False)
    rejected = serializers.IntegerField(required=False)
    errors = ImportErrorItemSerializer(many=True)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class ArtistKeyField(serializers.Field):
    pass


class ImportRowSerializer(serializers.Serializer):
    """One row of an import (documentation only: rows are validated by the intake service)."""

    artist = ArtistKeyField(help_text="The artist's id or slug, within your agency.")
    url = serializers.CharField(help_text="A public http(s) URL.")
    category = serializers.ChoiceField(
        choices=[c for c, _ in InfringingURL._meta.get_field("category").choices]
    )
    legal_route = serializers.ChoiceField(
        choices=[c for c, _ in InfringingURL._meta.get_field("legal_route").choices],
        required=False,
        help_text="Empty: the platform's default route.",
    )
    discovered_at = serializers.CharField(
        required=False, help_text="ISO 8601 date or date-time; empty: now. Not in the future."
    )
    note = serializers.CharField(required=False, max_length=2000)


class ImportRequestSerializer(serializers.Serializer):
    items = ImportRowSerializer(many=True)


class StatsGroupSerializer(serializers.Serializer):
    urls = serializers.IntegerField(help_text="URLs recorded.")
    notified = serializers.IntegerField(help_text="URLs included in a sent notice.")
    removed = serializers.IntegerField(help_text="Notified URLs whose removal was confirmed.")
    live = serializers.IntegerField(help_text="Notified URLs still live.")
    overdue = serializers.IntegerField(help_text="Live past the route's deadline.")
    removal_rate = serializers.FloatField(
        allow_null=True, help_text="removed / notified; null when none notified."
    )
    median_seconds_to_removal = serializers.FloatField(
        allow_null=True, help_text="Median of removed_at - notified_at over removed URLs."
    )
    p90_seconds_to_removal = serializers.FloatField(
        allow_null=True, help_text="90th percentile of removed_at - notified_at over removed URLs."
    )
    reuploads = serializers.IntegerField(help_text="Times a removed URL was seen live again.")


class PlatformStatsSerializer(StatsGroupSerializer):
    platform = serializers.CharField(allow_null=True, help_text="Platform slug; null: no known platform.")
    name = serializers.CharField()


class RouteStatsSerializer(StatsGroupSerializer):
    legal_route = serializers.CharField()
    name = serializers.CharField()


class WeeklyTrendSerializer(serializers.Serializer):
    weeks = serializers.ListField(child=serializers.DateField(), help_text="Mondays of the last 12 weeks.")
    new_urls = serializers.ListField(child=serializers.IntegerField(), help_text="URLs discovered that week.")
    removals = serializers.ListField(
        child=serializers.IntegerField(), help_text="Removals confirmed that week."
    )


class ArtistStatsSerializer(StatsGroupSerializer):
    artist = serializers.CharField(help_text="Artist slug.")
    name = serializers.CharField()


class StatsSerializer(serializers.Serializer):
    agency = serializers.CharField()
    overall = StatsGroupSerializer()
    platforms = PlatformStatsSerializer(many=True)
    legal_routes = RouteStatsSerializer(many=True)
    artists = ArtistStatsSerializer(many=True)
    weekly = WeeklyTrendSerializer()
