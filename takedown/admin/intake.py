"""URLs: the list, adding one, CSV upload and export, rechecks and triage, their evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import zip_longest

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from takedown import importing, jobs, lifecycle, notices, rechecks
from takedown.admin.base import AgencyScoped, ReadOnly
from takedown.admin.contacts import EscalationStepInline, host_contacts_html
from takedown.choices import Category, LegalRoute, Source, URLStatus, Verdict
from takedown.contacts import services as contact_services
from takedown.models import (
    Agency,
    Artist,
    InfringingURL,
    Job,
    URLCheck,
    User,
    url_text_match,
    visible,
)
from takedown.notices.states import IN_FLIGHT_STATES
from takedown.roles import role_has


def prepare_notices(modeladmin, request, *, url_ids=None, artist_ids=None) -> None:
    """Group open URLs into draft notices and say what was drafted and what was left out."""
    touched, skipped = [], 0
    try:
        for artist_id in artist_ids if artist_ids is not None else [None]:
            t, s = notices.notices_prepare(user=request.user, url_ids=url_ids, artist_id=artist_id)
            touched += t
            skipped += s
    except notices.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    if touched:
        links = format_html_join(
            ", ",
            '<a href="{}">#{} {}</a>',
            ((reverse("admin:takedown_notice_change", args=[n.pk]), n.pk, n.platform) for n in touched),
        )
        # Placeholder substitution by format_html: the links stay markup, the rest is escaped.
        modeladmin.message_user(
            request,
            format_html(_("Draft notices ready: %(list)s.").replace("%(list)s", "{}"), links),
            messages.SUCCESS,
        )
    else:
        modeladmin.message_user(
            request, _("No open URL to draft: they are in notices already, or not open."), messages.WARNING
        )
    if skipped:
        modeladmin.message_user(
            request,
            _(
                "%(n)d URL(s) left out: no platform matches their host, or their legal route cannot carry their category."
            )
            % {"n": skipped},
            messages.WARNING,
        )


def describe_outcome(outcome: rechecks.Outcome) -> str:
    """ "#2: removed (1 of 2, confirming)" or "#2: removed, confirmed: now Removed"."""
    verdict = Verdict(outcome.verdict).label if outcome.verdict in Verdict.values else outcome.verdict
    text = f"#{outcome.url_id}: {verdict}"
    if outcome.status_after != outcome.status_before:
        return gettext("%(text)s, confirmed: now %(status)s") % {
            "text": text,
            "status": URLStatus(outcome.status_after).label,
        }
    if outcome.confirming and outcome.streak_count < settings.TAKEDOWN_CONFIRMATIONS:
        return gettext("%(text)s (%(n)d of %(total)d, confirming)") % {
            "text": text,
            "n": outcome.streak_count,
            "total": settings.TAKEDOWN_CONFIRMATIONS,
        }
    if outcome.confirm_after is not None:
        when = timezone.localtime(outcome.confirm_after).strftime("%H:%M")
        return gettext("%(text)s (seen %(n)d times; a check from %(when)s on confirms it)") % {
            "text": text,
            "n": outcome.streak_count,
            "when": when,
        }
    return text


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(overdue_since__isnull=False)
        if self.value() == "no":
            return queryset.filter(overdue_since__isnull=True)
        return queryset


class InNoticeFilter(admin.SimpleListFilter):
    """Whether a notice on its way (or sent) lists the URL: the home page's "to triage" is the
    open URLs none lists."""

    title = _("in a notice")
    parameter_name = "in_notice"

    def lookups(self, request, model_admin):
        return [("yes", _("In a notice on its way or sent")), ("no", _("In no notice on its way"))]

    def queryset(self, request, queryset):
        listed = InfringingURL.objects.filter(notice_items__notice__status__in=IN_FLIGHT_STATES).values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=listed)
        if self.value() == "no":
            return queryset.exclude(pk__in=listed)
        return queryset


class UploadFilter(admin.SimpleListFilter):
    """The rows one CSV upload created: "upload=<first µs>-<last µs>" (epoch microseconds),
    written by the upload page's result link; always narrowed to the signed-in uploader."""

    title = _("upload")
    parameter_name = "upload"

    @staticmethod
    def value_for(start, end) -> str:
        return f"{int(start.timestamp() * 1_000_000)}-{int(end.timestamp() * 1_000_000) + 1}"

    def _window(self):
        try:
            first, last = (int(part) for part in (self.value() or "").split("-", 1))
            start = datetime.fromtimestamp(first / 1_000_000, tz=UTC)
            end = datetime.fromtimestamp(last / 1_000_000, tz=UTC)
        except (ValueError, OverflowError, OSError):
            return None
        return (start, end) if start <= end else None

    def lookups(self, request, model_admin):
        # Shown (and applied) only when a result link asked for it.
        return [(self.value(), _("The rows of this upload"))] if self._window() else []

    def queryset(self, request, queryset):
        window = self._window()
        if window is None:
            return queryset
        return queryset.filter(
            source=Source.CSV, added_by=request.user, created_at__gte=window[0], created_at__lte=window[1]
        )


class URLCheckInline(admin.TabularInline):
    model = URLCheck
    extra = 0
    can_delete = False
    max_num = 0
    fields = ["checked_at", "verdict", "reason", "rule", "http_status", "final_url", "title", "short_sha256"]
    readonly_fields = fields

    @admin.display(description=_("body SHA-256"))
    def short_sha256(self, check: URLCheck) -> str:
        return f"{check.body_sha256[:16]}…" if check.body_sha256 else "–"

    ordering = ["-checked_at"]
    show_change_link = True


class URLAddForm(forms.ModelForm):
    """Adding one URL runs the same intake checks as a CSV row."""

    class Meta:
        model = InfringingURL
        fields = ["artist", "url", "category", "legal_route", "discovered_at", "note"]
        widgets = {"url": forms.TextInput(attrs={"size": 100})}

    def __init__(self, *args, request: HttpRequest | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.fields["legal_route"].required = False
        self.fields["legal_route"].help_text = _("Empty: the platform's default route.")

    def clean(self):
        data = super().clean()
        artist = data.get("artist")
        if artist is None or self.errors:
            return data
        intake = importing.Intake(agency=artist.agency, artist=artist)
        result = intake.check(
            1,
            {
                "url": data.get("url") or "",
                "category": data.get("category") or "",
                "legal_route": data.get("legal_route") or "",
                "discovered_at": data.get("discovered_at") or "",
                "note": data.get("note") or "",
            },
        )
        if isinstance(result, importing.RowError):
            raise ValidationError({result.field or "url": result.message})
        if InfringingURL.objects.filter(artist=artist, normalized_url=result.normalized_url).exists():
            raise ValidationError(
                {
                    "url": _("This URL is already recorded for %(artist)s as %(url)s.")
                    % {"artist": artist, "url": result.normalized_url}
                }
            )
        self.instance.normalized_url = result.normalized_url
        self.instance.host = result.host
        self.instance.platform_id = result.platform_id
        data["legal_route"] = result.legal_route
        self.instance.legal_route = result.legal_route
        return data


class CappedPaginator(Paginator):
    """Counts at most CAP rows: the list pages through the newest CAP matches.

    A COUNT(*) over an agency's whole history grows with it; this one stops at CAP + 1 rows of
    the (agency, discovered_at) index. Filters and search narrow the list below the cap.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP].count()

    def page(self, number):
        """The page's ids first, then its rows: the OFFSET walks the (agency, discovered_at,
        id) index alone, and only the page's rows are read and joined to their artist and
        platform (a plain OFFSET reads and joins every row it skips: the last of 100 pages
        cost ten times the first). The ids come back as values, not a subquery: with a
        subquery PostgreSQL scanned a small table whole to hash-join them. The first page
        (what a list that fits on one page shows too) has nothing to skip: a plain LIMIT."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list
        if bottom and isinstance(rows, QuerySet) and not rows.query.distinct:
            rows = rows.filter(pk__in=list(rows.values_list("pk", flat=True)[bottom:top]))
        else:
            rows = rows[bottom:top]
        return self._get_page(rows, number, self)


@admin.register(InfringingURL)
class InfringingURLAdmin(AgencyScoped, admin.ModelAdmin):
    list_display = [
        "short_url",
        "artist",
        "platform",
        "category",
        "status",
        "last_verdict",
        "discovered_at",
        "overdue_flag",
    ]
    list_filter = [
        OverdueFilter,
        InNoticeFilter,
        UploadFilter,
        "status",
        "category",
        "legal_route",
        "platform",
        "source",
        "last_verdict",
        "artist",
        # In place of the date hierarchy: today, 7 days, this month, this year (no query).
        "discovered_at",
    ]
    # The URL column links itself (beside its copy button): no second link around it.
    list_display_links = None
    list_select_related = ["artist", "platform"]
    # Searched by get_search_results (trigram indexes on PostgreSQL); no date hierarchy: its
    # DISTINCT-year and MIN/MAX queries read the agency's whole history on every page.
    search_fields = ["normalized_url", "note", "artist__name", "artist__name_ko"]
    autocomplete_fields = ["artist"]
    paginator = CappedPaginator
    show_full_result_count = False
    inlines = [URLCheckInline, EscalationStepInline]
    actions = [
        "prepare_notices",
        "recheck_now",
        "discover_contacts",
        "dismiss_urls",
        "reopen_urls",
        "propose_case",
    ]
    readonly_fields = [
        "normalized_url",
        "same_as",
        "host",
        "platform",
        "status",
        "source",
        "added_by",
        "created_at",
        "updated_at",
        "next_check_at",
        "last_checked_at",
        "last_verdict",
        "streak_verdict",
        "streak_count",
        "notified_at",
        "deadline_at",
        "overdue_since",
        "removed_at",
        "reupload_count",
        "escalation",
        "abuse_contacts",
    ]
    change_list_template = "admin/takedown/infringingurl/change_list.html"

    def get_ordering(self, request):
        # A superuser lists every agency's URLs: newest added first, along the primary key. The
        # per-agency index that serves everyone else's order (newest discovered first) cannot
        # serve a list across agencies, which at a million URLs sorted the whole table.
        if request.user.is_superuser:
            return ["-id"]
        return super().get_ordering(request)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["artist", "url", *self.readonly_fields]

    def get_search_results(self, request, queryset, search_term):
        """Each word must be in the normalised URL or the note, or name the artist.

        One OR of index-backed conditions per word (on PostgreSQL trigram indexes on
        UPPER(normalized_url) and UPPER(note), and the matching artists' ids), instead of the
        default's joins and scans; no DISTINCT is needed.
        """
        words = search_term.split()[:5]
        if not words:
            return queryset, False
        for word in words:
            named = Q(name__icontains=word) | Q(name_ko__icontains=word)
            # The artists' ids as values, not a subquery: PostgreSQL then ORs three index scans
            # (a subquery in the OR made it filter the whole list in date order instead).
            artists = list(visible(Artist, request.user).filter(named).values_list("pk", flat=True))
            matches = url_text_match(word)
            if artists:
                matches |= Q(artist_id__in=artists)
            queryset = queryset.filter(matches)
        return queryset, False

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return URLAddForm.Meta.fields
        return [
            "artist",
            "url",
            "normalized_url",
            "same_as",
            "host",
            "platform",
            "category",
            "legal_route",
            "work",
            "depicted_person",
            "notice_facts",
            "status",
            "discovered_at",
            "note",
            "source",
            "added_by",
            "created_at",
            "notified_at",
            "deadline_at",
            "overdue_since",
            "escalation",
            "abuse_contacts",
            "removed_at",
            "reupload_count",
            "next_check_at",
            "last_checked_at",
            "last_verdict",
            "streak_verdict",
            "streak_count",
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = URLAddForm
            form_class = super().get_form(request, obj, change, **kwargs)

            class RequestForm(form_class):
                def __init__(self, *args, **kw):
                    super().__init__(*args, request=request, **kw)

            return RequestForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.source = Source.ADMIN
            obj.added_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("URL"), ordering="normalized_url")
    def short_url(self, obj: InfringingURL) -> str:
        # Cut in the middle: the host and the item's id at the end are what people tell apart.
        full = obj.normalized_url
        text = full if len(full) <= 48 else full[:30] + "…" + full[-17:]
        return format_html(
            '<span class="url-cell"><a href="{}" title="{}">{}</a>'
            '<button type="button" class="copy-url" data-copy="{}" data-copied="{}" title="{}">{}</button></span>',
            reverse("admin:takedown_infringingurl_change", args=[obj.pk]),
            full,
            text,
            full,
            _("Copied"),
            _("Copy the full URL"),
            _("Copy"),
        )

    @admin.display(description=_("abuse contacts of the host"))
    def abuse_contacts(self, obj: InfringingURL) -> str:
        return host_contacts_html(obj)

    @admin.action(
        description=_("Discover abuse contacts of the selected URLs' hosts"), permissions=["change"]
    )
    def discover_contacts(self, request, queryset):
        hosts = sorted(set(queryset.filter(platform__isnull=True).values_list("host", flat=True)))
        if not hosts:
            self.message_user(request, _("Registry platforms' URLs go to the platform: nothing to discover."))
            return
        for host in hosts[:10]:
            lookup = contact_services.host_discover(target=host)
            found = len(contact_services.host_contacts(lookup.host, agency_id=request.user.agency_id))
            self.message_user(
                request, _("%(host)s: %(n)d contact(s).") % {"host": host, "n": found}, messages.SUCCESS
            )
        if len(hosts) > 10:
            self.message_user(request, _("Ten hosts at a time: select fewer for the rest."), messages.WARNING)

    @admin.display(description=_("overdue"), boolean=True, ordering="overdue_since")
    def overdue_flag(self, obj: InfringingURL) -> bool:
        return obj.overdue_since is not None

    @admin.action(description=_("Prepare notices for the selected URLs"), permissions=["change"])
    def prepare_notices(self, request, queryset):
        prepare_notices(self, request, url_ids=list(queryset.values_list("pk", flat=True)))

    def has_propose_permission(self, request) -> bool:
        return role_has(request.user, "add_case")

    @admin.action(description=_("Propose a case of the selected URLs"), permissions=["propose"])
    def propose_case(self, request, queryset):
        from takedown.admin.cases import propose_case_of_urls

        return propose_case_of_urls(request, list(queryset.values_list("pk", flat=True)))

    @admin.action(description=_("Recheck selected URLs now"), permissions=["change"])
    def recheck_now(self, request, queryset):
        ids = list(queryset.exclude(status=URLStatus.DISMISSED).values_list("pk", flat=True))
        agency_id = request.user.agency_id or queryset.values_list("artist__agency_id", flat=True).first()
        result = jobs.urls_recheck(user=request.user, url_ids=ids, agency_id=agency_id)
        if isinstance(result, Job):
            return HttpResponseRedirect(reverse("admin:takedown_job_change", args=[result.pk]))
        self.message_user(
            request,
            _("Checked %(n)d URL(s): %(v)s.")
            % {"n": len(result), "v": "; ".join(map(describe_outcome, result)) or "-"},
            messages.SUCCESS,
        )
        return None

    @admin.action(
        description=_("Dismiss selected URLs (not infringing / out of scope)"), permissions=["change"]
    )
    def dismiss_urls(self, request, queryset):
        moved = lifecycle.urls_set_status(
            url_ids=list(queryset.values_list("pk", flat=True)),
            to=URLStatus.DISMISSED,
            allowed_from=[URLStatus.OPEN],
            user=request.user,
        )
        self.message_user(request, _("%(n)d URL(s) dismissed.") % {"n": moved}, messages.SUCCESS)

    @admin.action(description=_("Reopen selected dismissed URLs"), permissions=["change"])
    def reopen_urls(self, request, queryset):
        moved = lifecycle.urls_set_status(
            url_ids=list(queryset.values_list("pk", flat=True)),
            to=URLStatus.OPEN,
            allowed_from=[URLStatus.DISMISSED],
            user=request.user,
        )
        self.message_user(request, _("%(n)d URL(s) reopened.") % {"n": moved}, messages.SUCCESS)

    # -- CSV upload -------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="takedown_infringingurl_upload",
            ),
            path(
                "upload/sample.csv",
                self.admin_site.admin_view(self.sample_view),
                name="takedown_infringingurl_upload_sample",
            ),
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_view),
                name="takedown_infringingurl_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest):
        """The URLs and outcomes of the list as filtered on screen, as CSV."""
        from django.http import StreamingHttpResponse

        from takedown.exporting import csv_lines, export_rows

        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        urls = changelist.get_queryset(request)
        response = StreamingHttpResponse(csv_lines(export_rows(urls)), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="takedown-urls-{stamp}.csv"'
        return response

    def sample_view(self, request: HttpRequest):
        """A small CSV in the upload's format, with invented URLs, to fill in."""
        from django.http import HttpResponse

        if not self.has_add_permission(request):
            raise PermissionDenied
        response = HttpResponse(SAMPLE_CSV, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="takedown-upload-sample.csv"'
        return response

    def upload_view(self, request: HttpRequest):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CSVUploadForm(request.POST or None, request.FILES or None, user=request.user)
        report = None
        rows_link = ""
        if request.method == "POST" and form.is_valid():
            started = timezone.now()
            try:
                report = jobs.urls_import(
                    user=request.user,
                    agency=form.agency,
                    rows=form.rows,
                    artist=form.cleaned_data.get("artist"),
                    default_category=form.cleaned_data.get("default_category") or "",
                    default_route=form.cleaned_data.get("default_route") or "",
                    source=Source.CSV,
                )
            except importing.IntakeError as exc:
                form.add_error("file", str(exc))
            else:
                if isinstance(report, Job):
                    return HttpResponseRedirect(reverse("admin:takedown_job_change", args=[report.pk]))
                rows_link = "{}?{}={}".format(
                    reverse("admin:takedown_infringingurl_changelist"),
                    UploadFilter.parameter_name,
                    UploadFilter.value_for(started, timezone.now()),
                )
                level = messages.SUCCESS if not report.rejected else messages.WARNING
                self.message_user(
                    request,
                    _("%(c)d created, %(d)d duplicates, %(r)d rejected.")
                    % {"c": report.created, "d": report.duplicates, "r": report.rejected},
                    level,
                )
                # Cells read differently from how they were pasted (split, extracted): say so.
                for note in report.notes[:20]:
                    self.message_user(
                        request,
                        _("Row %(row)d: %(note)s.") % {"row": note.row, "note": note.message},
                        messages.INFO,
                    )
                if not report.rejected:
                    return HttpResponseRedirect(rows_link)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Upload URLs from CSV"),
            "form": form,
            "report": report,
            "uploaded_url": rows_link,
            "columns": importing.COLUMNS,
            # Side by side: the label people read, the value the file carries.
            "value_rows": list(zip_longest(Category.choices, LegalRoute.choices)),
        }
        return TemplateResponse(request, "admin/takedown/infringingurl/upload.html", context)


SAMPLE_CSV = (
    "\ufeffurl,artist,category,legal_route,note\r\n"
    "https://www.youtube.com/watch?v=EXAMPLE0001,,synthetic_sexual,,Deepfake clip reported by a fan\r\n"
    "https://x.com/example_account/status/1000000000000000001,,impersonation,platform_policy,"
    "Account posing as the artist\r\n"
)


class CSVUploadForm(forms.Form):
    agency = forms.ModelChoiceField(queryset=Agency.objects.all(), required=False, label=_("Agency"))
    artist = forms.ModelChoiceField(
        label=_("Artist"),
        queryset=Artist.objects.none(),
        required=False,
        help_text=_(
            "Every row is for this artist; leave empty when the file has an 'artist' column (slug or id)."
        ),
    )
    default_category = forms.ChoiceField(
        label=_("Default category"),
        choices=[("", "—")] + list(Category.choices),
        required=False,
        help_text=_("Used for rows whose category is empty."),
    )
    default_route = forms.ChoiceField(
        label=_("Default legal route"),
        choices=[("", "—")] + list(LegalRoute.choices),
        required=False,
        help_text=_("Used for rows whose legal route is empty; otherwise the platform's default route."),
    )
    file = forms.FileField(label=_("File"), help_text=_("CSV, UTF-8 (a BOM is fine)."))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.is_superuser:
            self.fields["artist"].queryset = Artist.objects.select_related("agency")
        else:
            del self.fields["agency"]
            self.fields["artist"].queryset = Artist.objects.filter(agency_id=user.agency_id)
        self.rows: list[dict] = []
        self.agency: Agency | None = None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            importing.check_upload_size(upload.size)
            self.rows = importing.rows_from_csv(upload.read())
        except importing.UnstorableText as exc:
            rows = [f"Row {e.row} ({e.field}): {e.message}" for e in exc.errors[:20]]
            raise ValidationError([str(exc), *rows]) from None
        except importing.IntakeError as exc:
            raise ValidationError(str(exc)) from None
        return upload

    def clean(self):
        data = super().clean()
        artist = data.get("artist")
        if self.user.is_superuser:
            self.agency = artist.agency if artist else data.get("agency")
            if self.agency is None:
                raise ValidationError(_("Choose an artist or an agency."))
        else:
            self.agency = self.user.agency
        return data


@admin.register(URLCheck)
class URLCheckAdmin(AgencyScoped, ReadOnly, admin.ModelAdmin):
    list_display = ["url", "checked_at", "verdict", "reason", "rule", "http_status", "elapsed_ms"]
    list_filter = ["verdict"]
    list_select_related = ["url"]
    search_fields = ["url__normalized_url", "title", "body_sha256"]
    date_hierarchy = "checked_at"
