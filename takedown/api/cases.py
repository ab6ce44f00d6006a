"""API: accounts (repeat offenders first) and cases with their dossiers.

Every detail action looks the case up in the caller's agency first: another agency's case is a
404 whatever the role; then the role decides (staff propose, legal reviewers own and export).
"""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from takedown import cases, jobs
from takedown.api import schema
from takedown.api.views import ID, APIBase
from takedown.models import Account, Case, CaseEvent, Job

# -- Serializers ---------------------------------------------------------------------------


class AccountSerializer(serializers.ModelSerializer):
    platform = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url_count = serializers.IntegerField(read_only=True, help_text="The agency's items this account posted.")
    artist_count = serializers.IntegerField(read_only=True, help_text="How many of the agency's artists.")

    class Meta:
        model = Account
        fields = [
            "id",
            "platform",
            "kind",
            "handle",
            "names_seen",
            "first_seen",
            "last_seen",
            "url_count",
            "artist_count",
        ]


class CaseEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = CaseEvent
        fields = ["at", "kind", "actor", "detail", "data"]


class CaseSerializer(serializers.ModelSerializer):
    legal_owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    artists = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    url_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Case
        fields = [
            "id", "title", "status", "artists", "legal_owner", "notes", "law_firm_reference", "police_reference",
            "created_by", "created_at", "closed_at", "url_count",
        ]  # fmt: skip


class CaseDetailSerializer(CaseSerializer):
    url_ids = serializers.SerializerMethodField(help_text="The case's URLs (ids), ascending.")
    events = CaseEventSerializer(many=True, read_only=True, help_text="The case's timeline, oldest first.")

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "url_ids", "events"]

    def get_url_ids(self, obj: Case) -> list[int]:
        return list(obj.case_urls.order_by("url_id").values_list("url_id", flat=True))


_IDS = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**62), max_length=100_000)


class CaseUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    law_firm_reference = serializers.CharField(required=False, allow_blank=True, max_length=200)
    police_reference = serializers.CharField(required=False, allow_blank=True, max_length=200)


class CaseURLsSerializer(serializers.Serializer):
    urls = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62),
        required=False,
        default=list,
        max_length=100_000,
    )
    accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62),
        required=False,
        default=list,
        max_length=1000,
    )


class CaseCreateSerializer(CaseURLsSerializer):
    title = serializers.CharField(max_length=300)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)


class CaseCloseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DossierJobSerializer(serializers.Serializer):
    job = serializers.IntegerField(help_text="The background job writing the dossier.")
    state = serializers.CharField(help_text="queued, running, done or failed.")
    done = serializers.IntegerField(help_text="URLs written so far.")
    total = serializers.IntegerField(help_text="The case's URLs.")
    location = serializers.CharField(help_text="Where to GET the ZIP once the job is done.")
    detail = serializers.CharField()


# -- Views ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Your agency's accounts behind its URLs, the most items first (repeat offenders)",
        responses=schema.responses({200: AccountSerializer(many=True)}, 400, 403),
    ),
    retrieve=extend_schema(
        summary="One account", responses=schema.responses({200: AccountSerializer}, 403, 404)
    ),
)
class AccountViewSet(APIBase, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    role_perms = {"list": "view_account", "retrieve": "view_account"}
    lookup_value_regex = ID
    serializer_class = AccountSerializer
    filter_backends: list = []
    queryset = Account.objects.none()

    def get_queryset(self):
        return (
            Account.objects.visible_to(self.request.user)
            .with_url_counts()
            .select_related("platform")
            .order_by("-url_count", "-last_seen", "pk")
        )


_DETAIL_ACTIONS = ("partial_update", "take", "close", "add_urls", "dossier", "dossier_job")


@extend_schema_view(
    list=extend_schema(
        summary="Your agency's cases, newest first",
        responses=schema.responses({200: CaseSerializer(many=True)}, 400, 403),
    ),
    retrieve=extend_schema(
        summary="One case with its URLs and timeline",
        responses=schema.responses({200: CaseDetailSerializer}, 403, 404),
    ),
    create=extend_schema(
        summary="Propose a case (staff) or open one you own (legal reviewers)",
        request=CaseCreateSerializer,
        responses=schema.responses({201: CaseDetailSerializer}, 400, 403),
    ),
    partial_update=extend_schema(
        summary="Change a case's title, notes or references (legal reviewers)",
        request=CaseUpdateSerializer,
        responses=schema.responses({200: CaseDetailSerializer}, 400, 403, 404),
    ),
)
class CaseViewSet(
    APIBase,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    role_perms = {
        "list": "view_case",
        "retrieve": "view_case",
        "create": "add_case",
        "partial_update": "change_case",
        "take": "change_case",
        "close": "change_case",
        "add_urls": "add_case",
        "dossier": "export_dossier",
        "dossier_job": "export_dossier",
    }
    role_perms_after_lookup = _DETAIL_ACTIONS
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = ID
    filter_backends: list = []
    queryset = Case.objects.none()

    def get_queryset(self):
        qs = Case.objects.visible_to(self.request.user).annotate(url_count=Count("case_urls"))
        qs = qs.select_related("legal_owner", "created_by").prefetch_related("artists")
        if self.action == "retrieve":
            qs = qs.prefetch_related("events__actor")
        return qs

    def get_serializer_class(self):
        return {
            "list": CaseSerializer,
            "create": CaseCreateSerializer,
            "partial_update": CaseUpdateSerializer,
            "close": CaseCloseSerializer,
            "add_urls": CaseURLsSerializer,
        }.get(self.action, CaseDetailSerializer)

    def _answer(self, case_id: int, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().prefetch_related("events__actor").get(pk=case_id)
        return Response(CaseDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args, **kwargs) -> Response:
        body = CaseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        case = cases.case_create(
            user=request.user,
            title=data["title"],
            notes=data["notes"],
            url_ids=data["urls"],
            account_ids=data["accounts"],
        )
        return self._answer(case.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        case = self.get_object()
        body = CaseUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        cases.case_update(user=request.user, case_id=case.pk, **body.validated_data)
        return self._answer(case.pk)

    def update(self, request, *args, **kwargs):  # PUT is not offered: a case changes field by field
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        summary="Take on a proposed case (legal reviewers): you own it",
        request=None,
        responses=schema.responses({200: CaseDetailSerializer}, 403, 404, 409),
    )
    @action(detail=True, methods=["post"])
    def take(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        cases.case_take(user=request.user, case_id=case.pk)
        return self._answer(case.pk)

    @extend_schema(
        summary="Close an open case with a reason (legal reviewers)",
        request=CaseCloseSerializer,
        responses=schema.responses({200: CaseDetailSerializer}, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        body = CaseCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cases.case_close(user=request.user, case_id=case.pk, reason=body.validated_data["reason"])
        return self._answer(case.pk)

    @extend_schema(
        summary="Add URLs, and every URL of the given accounts, to a case",
        request=CaseURLsSerializer,
        responses=schema.responses({200: CaseDetailSerializer}, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], url_path="urls")
    def add_urls(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        body = CaseURLsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cases.case_add_urls(
            user=request.user,
            case_id=case.pk,
            url_ids=body.validated_data["urls"],
            account_ids=body.validated_data["accounts"],
        )
        return self._answer(case.pk)

    def perform_content_negotiation(self, request, force=False):
        # A client asking for application/zip still gets its errors, as JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "dossier")

    @extend_schema(
        summary="The case's signed evidence dossier (ZIP); a large case is written in the background",
        parameters=[OpenApiParameter("locale", str, enum=["en", "ko"], description="The report's language.")],
        responses=schema.responses(
            {
                (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, "The dossier."),
                202: OpenApiResponse(
                    DossierJobSerializer, "Written in the background; follow the job in the admin."
                ),
            },
            400,
            403,
            404,
        ),
    )
    @action(detail=True, methods=["post"])
    def dossier(self, request: Request, pk: str | None = None) -> HttpResponse:
        # POST: every export is recorded on the case's timeline and in the chain.
        case = self.get_object()
        locale = request.query_params.get("locale", "en")
        if locale not in ("en", "ko"):
            locale = "en"
        result = jobs.dossier_export_now_or_later(user=request.user, case_id=case.pk, locale=locale)
        if isinstance(result, Job):
            return self._job_answer(case, result)
        response = HttpResponse(result, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="case-{case.pk}-dossier.zip"'
        return response

    @extend_schema(
        summary="A dossier written in the background: its progress, then the ZIP",
        responses=schema.responses(
            {
                (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, "The dossier."),
                202: OpenApiResponse(DossierJobSerializer, "Still being written."),
                409: OpenApiResponse(DossierJobSerializer, "The job failed; `detail` says why."),
            },
            403,
            404,
        ),
    )
    @action(detail=True, methods=["get"], url_path=r"dossier/(?P<job_id>[0-9]{1,18})")
    def dossier_job(self, request: Request, pk: str | None = None, job_id: str = "") -> HttpResponse:
        case = self.get_object()
        job = get_object_or_404(
            Job.objects.visible_to(request.user),
            pk=int(job_id),
            kind=Job.Kind.DOSSIER,
            params__case_id=case.pk,
        )
        if job.state != Job.State.DONE:
            return self._job_answer(case, job)
        return jobs.dossier_file_response(job)

    def _job_answer(self, case: Case, job: Job) -> Response:
        failed = job.state == Job.State.FAILED
        return Response(
            {
                "job": job.pk,
                "state": job.state,
                "done": job.done,
                "total": job.total,
                "location": reverse("api:case-dossier-job", args=[case.pk, job.pk]),
                # The job's own error may name server paths: the admin's job page shows it to staff.
                "detail": "The dossier could not be written: see the job in the admin."
                if failed
                else "The dossier is being written in the background.",
            },
            status=status.HTTP_409_CONFLICT if failed else status.HTTP_202_ACCEPTED,
        )
