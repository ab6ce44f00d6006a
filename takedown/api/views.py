"""API views: scope to the caller's agency, check the role, call one service, answer.

Superusers belong to no agency: they read every agency's objects, and name the agency
(`?agency=<slug>` or an `agency` field) when they write or ask for statistics.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db.models import Count, Prefetch
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from takedown import importing, notices
from takedown.api import schema
from takedown.api.errors import Conflict, PayloadTooLarge
from takedown.api.filters import ArtistFilter, ContactFilter, NoticeFilter, URLFilter
from takedown.api.permissions import NOTICE_ACTIONS, HasRole
from takedown.api.serializers import (
    AbuseContactSerializer,
    ArtistCreateSerializer,
    ArtistSerializer,
    ImportErrorSerializer,
    ImportReportSerializer,
    ImportRequestSerializer,
    NoticeDetailSerializer,
    NoticeSerializer,
    PlatformSerializer,
    PrepareResultSerializer,
    PrepareSerializer,
    RejectSerializer,
    SendSerializer,
    StatsSerializer,
    URLDetailSerializer,
    URLSerializer,
)
from takedown.api.throttling import ImportRateThrottle, TokenRateThrottle
from takedown.choices import LegalRoute, Source
from takedown.models import (
    AbuseContact,
    Agency,
    Artist,
    InfringingURL,
    Notice,
    NoticeEvent,
    NoticeItem,
    Platform,
    URLCheck,
)
from takedown.stats import Filters, removal_stats, weekly_trend

ID = r"[0-9]{1,18}"  # path ids: digits only, within a bigint, so "import" is never an id

AGENCY_PARAM = OpenApiParameter(
    "agency", str, description="Superusers only (they belong to no agency): the agency's slug."
)


_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")


def caller_agency(request: Request) -> Agency:
    """The agency the caller acts for: their own, or for a superuser the one named by ?agency=."""
    user = request.user
    slug = request.query_params.get("agency", "").strip()
    if not (user.is_superuser and user.agency_id is None):
        if slug and slug != user.agency.slug:
            # The same answer whether the agency exists or is someone else's.
            raise exceptions.ValidationError({"agency": f"Unknown agency {slug!r}."})
        return user.agency
    if not slug:
        raise exceptions.ValidationError({"agency": "A superuser belongs to no agency: add ?agency=<slug>."})
    agency = Agency.objects.filter(slug=slug).first() if _SLUG.fullmatch(slug) else None
    if agency is None:
        raise exceptions.ValidationError({"agency": f"Unknown agency {slug!r}."})
    return agency


class APIBase:
    permission_classes = [IsAuthenticated, HasRole]
    throttle_classes = [TokenRateThrottle]
    role_perms: dict[str, str] = {}


# -- Artists and platforms ----------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List your agency's artists",
        responses=schema.responses({200: ArtistSerializer(many=True)}, 400, 403),
    ),
    retrieve=extend_schema(
        summary="One artist", responses=schema.responses({200: ArtistSerializer}, 403, 404)
    ),
    create=extend_schema(
        summary="Add an artist to your agency",
        request=ArtistCreateSerializer,
        responses=schema.responses({201: ArtistSerializer}, 400, 403),
    ),
)
class ArtistViewSet(APIBase, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    viewsets.GenericViewSet):  # fmt: skip
    role_perms = {"list": "view_artist", "retrieve": "view_artist", "create": "add_artist"}
    filterset_class = ArtistFilter
    lookup_value_regex = ID
    queryset = Artist.objects.none()  # for the schema; get_queryset scopes

    def get_queryset(self):
        return Artist.objects.visible_to(self.request.user).select_related("agency")

    def get_serializer_class(self):
        return ArtistCreateSerializer if self.action == "create" else ArtistSerializer


@extend_schema_view(
    list=extend_schema(
        summary="The platform registry",
        description="Every platform known to the installation (shared by all agencies); not paginated.",
        responses=schema.responses({200: PlatformSerializer(many=True)}, 403),
    )
)
class PlatformViewSet(APIBase, mixins.ListModelMixin, viewsets.GenericViewSet):
    role_perms = {"list": "view_platform"}
    serializer_class = PlatformSerializer
    pagination_class = None  # a registry of tens of rows
    filter_backends: list = []
    queryset = Platform.objects.order_by("name")


@extend_schema_view(
    list=extend_schema(
        summary="Abuse contacts of hosts no registry platform covers, with their sources",
        description="Current contacts of the hosts your agency's URLs are on: discovered ones "
        "(shared facts, the same for every agency) and those your agency's staff recorded (yours "
        "alone). Filter by `host`.",
        responses=schema.responses({200: AbuseContactSerializer(many=True)}, 400, 403),
    )
)
class AbuseContactViewSet(APIBase, mixins.ListModelMixin, viewsets.GenericViewSet):
    role_perms = {"list": "view_abusecontact"}
    serializer_class = AbuseContactSerializer
    filterset_class = ContactFilter
    queryset = AbuseContact.objects.none()  # for the schema; get_queryset scopes

    def get_queryset(self):
        return AbuseContact.objects.visible_to(self.request.user).filter(is_current=True)


# -- URLs ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Your agency's URLs, newest first",
        description="Cursor-paginated: follow `next`. `page_size` up to 1000.",
        responses=schema.responses({200: URLSerializer(many=True)}, 400, 403),
    ),
    retrieve=extend_schema(
        summary="One URL with its checks (evidence) and the notices that list it",
        responses=schema.responses({200: URLDetailSerializer}, 403, 404),
    ),
)
class URLViewSet(APIBase, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    role_perms = {"list": "view_infringingurl", "retrieve": "view_infringingurl"}
    filterset_class = URLFilter
    lookup_value_regex = ID
    queryset = InfringingURL.objects.none()

    def get_queryset(self):
        qs = InfringingURL.objects.visible_to(self.request.user).select_related("platform")
        if self.action == "retrieve":
            qs = qs.prefetch_related(
                Prefetch("checks", URLCheck.objects.order_by("-checked_at", "-id")),
                Prefetch(
                    "notice_items", NoticeItem.objects.only("id", "url_id", "notice_id").order_by("notice_id")
                ),
            )
        return qs

    def get_serializer_class(self):
        return URLDetailSerializer if self.action == "retrieve" else URLSerializer


class RawBodyParser(BaseParser):
    """Hands the view the body as bytes, read with a guard: no more than the limit + 1 bytes.

    Accepts any media type: the view checks the content type itself, so that a wrong one is a
    400 with a message rather than DRF's 415.
    """

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        request = parser_context["request"]
        declared = int(request.META.get("CONTENT_LENGTH") or 0)  # DRF already checked it parses
        try:
            importing.check_body_size(declared)
            body = stream.read(settings.TAKEDOWN_IMPORT_MAX_BYTES + 1)
            importing.check_body_size(len(body), whole=False)
        except importing.ImportTooLarge as exc:
            raise PayloadTooLarge(str(exc)) from None
        return body


_JSON_TYPES = {"application/json"}
_CSV_TYPES = {"text/csv", "application/csv"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@extend_schema(
    summary="Import URLs in bulk (JSON or CSV), up to 100,000 rows per request",
    description=(
        "Each row: `artist` (id or slug), `url`, `category`, and optionally `legal_route` (empty: the "
        "platform's default), `discovered_at` (ISO 8601; empty: now) and `note`. Send JSON "
        '`{"items": [...]}` or `text/csv` (UTF-8, BOM allowed) with those columns.\n\n'
        "URLs are normalised and de-duplicated per artist: rows already stored, or repeated in the "
        "batch, count as `duplicates`, so re-sending a batch creates nothing new. Rejected rows are "
        "listed with their row number (from 1), field and reason; valid rows are stored anyway "
        "unless `atomic=1`.\n\n"
        "Answers 201 when something was created, 200 when not (all duplicates), 400 when no row "
        "could be accepted or an atomic batch had a rejected row (same body plus `detail`), 413 "
        "when the body or the row count is over the limit."
    ),
    request={"application/json": ImportRequestSerializer, "text/csv": OpenApiTypes.STR},
    parameters=[
        OpenApiParameter("atomic", OpenApiTypes.BOOL, description="1: store nothing if any row is rejected."),
        AGENCY_PARAM,
    ],
    responses=schema.responses(
        {
            201: ImportReportSerializer,
            200: ImportReportSerializer,
            400: OpenApiResponse(
                ImportErrorSerializer,
                "The batch could not be read, no row was valid, or an atomic batch had a rejected row.",
            ),
        },
        403,
        413,
    ),
    examples=[
        schema.IMPORT_JSON_EXAMPLE,
        schema.IMPORT_CSV_EXAMPLE,
        schema.IMPORT_REPORT_EXAMPLE,
        schema.IMPORT_RESENT_EXAMPLE,
        schema.IMPORT_REJECTED_EXAMPLE,
        schema.IMPORT_UNREADABLE_EXAMPLE,
    ],
)
class URLImportView(APIBase, APIView):
    """The fast path: rows go as plain dicts to the intake service, with no per-row serializer."""

    role_perms = {"post": "add_infringingurl"}
    throttle_classes = [TokenRateThrottle, ImportRateThrottle]
    parser_classes = [RawBodyParser]

    def post(self, request: Request) -> Response:
        agency = caller_agency(request)
        raw_atomic = request.query_params.get("atomic", "").strip().lower()
        if raw_atomic not in _TRUE | _FALSE:
            raise exceptions.ValidationError({"atomic": "Use 1 or 0."})
        media_type = request.content_type.split(";")[0].strip().lower()
        charset = request.content_type.lower().partition("charset=")[2].strip(' "') or "utf-8"
        if media_type not in _JSON_TYPES | _CSV_TYPES:
            raise exceptions.ValidationError(
                f"Content-Type {media_type or 'missing'!r}: send application/json "
                '({"items": [...]}) or text/csv.'
            )
        if charset.replace("_", "-") not in ("utf-8", "utf8"):
            raise exceptions.ValidationError(f"Charset {charset!r}: send UTF-8.")
        body = request.data
        if not isinstance(body, bytes) or not body.strip():
            if request.META.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
                raise exceptions.ValidationError(
                    "Send the body with a Content-Length (chunked uploads are not supported)."
                )
            raise exceptions.ValidationError("The request body is empty: send rows as JSON or CSV.")

        try:
            rows = (
                importing.rows_from_json(body) if media_type in _JSON_TYPES else importing.rows_from_csv(body)
            )
            report = importing.import_rows(
                rows, agency=agency, source=Source.API, user=request.user, atomic=raw_atomic in _TRUE
            )
        except importing.UnstorableText as exc:
            counts = {"created": 0, "duplicates": 0, "rejected": len(exc.errors)}
            errors = [e.as_dict() for e in exc.errors]
            return Response(
                {"detail": str(exc), **counts, "errors": errors}, status=status.HTTP_400_BAD_REQUEST
            )
        except importing.ImportTooLarge as exc:
            raise PayloadTooLarge(str(exc)) from None
        except importing.IntakeError as exc:
            raise exceptions.ValidationError({exc.field: str(exc)} if exc.field else str(exc)) from None

        body = report.as_dict()
        if report.atomic_aborted:
            detail = f"{report.rejected} row(s) rejected; with atomic=1 nothing was stored."
            return Response({"detail": detail, **body}, status=status.HTTP_400_BAD_REQUEST)
        if report.rejected and not report.created and not report.duplicates:
            detail = f"No row could be accepted: {report.rejected} row(s) rejected, nothing stored."
            return Response({"detail": detail, **body}, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_201_CREATED if report.created else status.HTTP_200_OK)


# -- Notices ------------------------------------------------------------------------------


_NOTICE_ACTION_RESPONSES = schema.responses({200: NoticeDetailSerializer}, 400, 403, 404, 409)


def _summary(action: str) -> str:
    act = notices.WORKFLOW[action]
    return f"{act.summary} ({notices.who_may(act)})"


@extend_schema_view(
    list=extend_schema(
        summary="Your agency's notices, newest first",
        responses=schema.responses({200: NoticeSerializer(many=True)}, 400, 403),
    ),
    retrieve=extend_schema(
        summary="One notice with its URLs and audit trail",
        responses=schema.responses({200: NoticeDetailSerializer}, 403, 404),
    ),
)
class NoticeViewSet(APIBase, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    role_perms = {
        "list": "view_notice",
        "retrieve": "view_notice",
        "pdf": "view_notice",
        # The workflow's own permissions (takedown.notices.states), not a second copy of them.
        **{name: notices.WORKFLOW[name].permission for name in NOTICE_ACTIONS},
    }
    # Looked up first (another agency's notice is a 404 for every role), then the role decides.
    role_perms_after_lookup = tuple(name for name in NOTICE_ACTIONS if notices.WORKFLOW[name].sources)
    filterset_class = NoticeFilter
    lookup_value_regex = ID
    queryset = Notice.objects.none()

    def get_queryset(self):
        qs = Notice.objects.visible_to(self.request.user)
        if self.action == "pdf":
            return qs.only("id", "agency_id", "status", "pdf", "pdf_sha256")
        if self.action in self.role_perms_after_lookup:
            return qs.only("id", "agency_id", "status")  # the service reloads and locks it
        qs = (
            qs.defer("pdf", "rendered_html", "rendered_text")
            .select_related("platform", "created_by", "reviewed_by")
            .annotate(url_count=Count("items"))
        )
        if self.action == "retrieve":
            qs = self._with_details(qs)
        return qs

    @staticmethod
    def _with_details(qs):
        return qs.prefetch_related(
            Prefetch("items", NoticeItem.objects.select_related("url").order_by("id")),
            Prefetch("events", NoticeEvent.objects.select_related("actor").order_by("at", "id")),
        )

    def get_serializer_class(self):
        return {
            "list": NoticeSerializer,
            "reject": RejectSerializer,
            "send": SendSerializer,
            "prepare": PrepareSerializer,
        }.get(self.action, NoticeDetailSerializer)

    def perform_content_negotiation(self, request, force=False):
        # A client asking for application/pdf still gets its errors, as JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "pdf")

    @extend_schema(
        summary="The frozen PDF: exactly the bytes legal approves and that are sent",
        responses=schema.responses(
            {
                (200, "application/pdf"): OpenApiResponse(
                    OpenApiTypes.BINARY, "The PDF; `X-Content-SHA256` carries its SHA-256 (hex)."
                )
            },
            403,
            404,
            409,
        ),
        parameters=[
            OpenApiParameter(
                "X-Content-SHA256",
                str,
                OpenApiParameter.HEADER,
                response=[200],
                description="SHA-256 of the PDF bytes, hex; the same as the notice's pdf_sha256.",
            ),
        ],
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        notice = self.get_object()
        if notice.pdf is None or not notice.pdf_sha256:
            raise Conflict(
                f"Notice #{notice.pk} is {notice.get_status_display().lower()} and has no frozen PDF yet: "
                "it is rendered when the notice is submitted for review."
            )
        response = HttpResponse(bytes(notice.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="notice-{notice.pk}.pdf"'
        response["X-Content-SHA256"] = notice.pdf_sha256
        response["ETag"] = f'"{notice.pdf_sha256}"'
        return response

    def _answer(self, notice: Notice) -> Response:
        fresh = self._with_details(
            Notice.objects.defer("pdf", "rendered_html", "rendered_text")
            .select_related("platform", "created_by", "reviewed_by")
            .annotate(url_count=Count("items"))
        ).get(pk=notice.pk)
        return Response(NoticeDetailSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_summary("prepare"),
        description=(
            "Groups the given open URLs (or all of an artist's) into draft notices per artist, platform "
            "and legal route, adding to an existing draft of the same group. URLs already held by an "
            "active notice are left alone; URLs on no known platform are counted in `skipped`."
        ),
        request=PrepareSerializer,
        responses=schema.responses({200: PrepareResultSerializer}, 400, 403),
        examples=[schema.PREPARE_EXAMPLE],
    )
    @action(detail=False, methods=["post"])
    def prepare(self, request: Request) -> Response:
        body = PrepareSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        drafts, skipped = notices.notices_prepare(
            user=request.user,
            url_ids=body.validated_data.get("urls"),
            artist_id=body.validated_data.get("artist"),
        )
        fresh = self.get_queryset().filter(pk__in=[n.pk for n in drafts])
        return Response({"notices": NoticeSerializer(fresh, many=True).data, "skipped": skipped})

    @extend_schema(
        summary=_summary("submit"),
        description="Runs the pre-send checks (each problem is listed in `errors`), then renders and freezes the PDF.",
        request=None,
        responses=_NOTICE_ACTION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        notice = self.get_object()
        return self._answer(notices.notice_submit(notice_id=notice.pk, user=request.user))

    @extend_schema(summary=_summary("approve"), request=None, responses=_NOTICE_ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        notice = self.get_object()
        return self._answer(notices.notice_approve(notice_id=notice.pk, user=request.user))

    @extend_schema(
        summary=_summary("reject"),
        request=RejectSerializer,
        responses=_NOTICE_ACTION_RESPONSES,
        examples=[schema.REJECT_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        notice = self.get_object()
        body = RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data["reason"]
        return self._answer(notices.notice_reject(notice_id=notice.pk, user=request.user, reason=reason))

    @extend_schema(
        summary=_summary("send"),
        description=(
            "Email channel: delivery is queued (the notice turns `sent` when the mail server accepts it). "
            "Web-form channel: submit the packet on the platform's form first, then send with the "
            "`reference` the platform gave you; the notice turns `sent` now."
        ),
        request=SendSerializer,
        responses=_NOTICE_ACTION_RESPONSES,
        examples=[schema.SEND_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: str | None = None) -> Response:
        notice = self.get_object()
        body = SendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reference = body.validated_data.get("reference", "")
        return self._answer(notices.notice_send(notice_id=notice.pk, user=request.user, reference=reference))


# -- Statistics ---------------------------------------------------------------------------


class StatsFilterSerializer(drf_serializers.Serializer):
    """The dashboard's filters as query parameters."""

    since = drf_serializers.DateField(required=False, help_text="Discovered on or after (YYYY-MM-DD).")
    until = drf_serializers.DateField(required=False, help_text="Discovered on or before (YYYY-MM-DD).")
    artist = drf_serializers.CharField(required=False, max_length=80, help_text="Artist id or slug.")
    platform = drf_serializers.CharField(required=False, max_length=80, help_text="Platform slug.")
    legal_route = drf_serializers.ChoiceField(choices=LegalRoute.choices, required=False)

    def filters(self, agency: Agency) -> Filters:
        data = self.validated_data
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise exceptions.ValidationError({"until": "The period ends before it starts."})
        artist = platform = None
        if data.get("artist"):
            key = data["artist"]
            found = Artist.objects.filter(agency=agency)
            found = found.filter(pk=int(key)) if key.isdigit() and len(key) < 19 else found.filter(slug=key)
            artist = found.values_list("pk", flat=True).first()
            if artist is None:
                raise exceptions.ValidationError({"artist": f"No artist {key!r} in your agency."})
        if data.get("platform"):
            platform = Platform.objects.filter(slug=data["platform"]).values_list("pk", flat=True).first()
            if platform is None:
                raise exceptions.ValidationError({"platform": f"Unknown platform {data['platform']!r}."})
        return Filters(
            since=since, until=until, artist=artist, platform=platform, route=data.get("legal_route")
        )


class StatsView(APIBase, APIView):
    role_perms = {"get": "view_infringingurl"}

    @extend_schema(
        summary="Removal rate, median and 90th-percentile time to removal (overall, per platform, route and "
        "artist) and the weekly trend: the dashboard's figures",
        description=(
            "Every figure counts the URLs discovered in the period (`since`, `until`), narrowed by "
            "artist, platform and legal route. Median and p90 come from a histogram: within 9.05 % plus "
            "30 seconds of the exact value."
        ),
        parameters=[AGENCY_PARAM, StatsFilterSerializer],
        responses=schema.responses({200: StatsSerializer}, 400, 403),
        examples=[schema.STATS_EXAMPLE],
    )
    def get(self, request: Request) -> Response:
        agency = caller_agency(request)
        params = StatsFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.filters(agency)
        return Response({**removal_stats(agency, filters), "weekly": weekly_trend(agency, filters=filters)})


@csrf_exempt  # a POST to an unknown path is a 404, not a CSRF failure
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer in the API's error shape, not with an HTML page."""
    return JsonResponse({"detail": "No API endpoint at this path; see /api/docs/.", "errors": []}, status=404)
