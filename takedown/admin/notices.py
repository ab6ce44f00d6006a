"""The notice workflow in the admin: drafting, the approval queue, sending, the timeline."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from takedown import jobs, notices, rendering
from takedown.admin.base import AgencyScoped, ReadOnly
from takedown.choices import ChannelKind, NoticeOutcome, NoticeStatus
from takedown.models import CounterNotice, Job, Notice, NoticeEvent, NoticeItem, NoticeTemplate
from takedown.notices.reasons import localized_reason
from takedown.roles import role_has


class NoticeItemInline(admin.TabularInline):
    model = NoticeItem
    extra = 0
    fields = ["url", "url_status", "url_category"]
    readonly_fields = ["url", "url_status", "url_category"]
    can_delete = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return (
            obj is not None
            and obj.status == NoticeStatus.DRAFT
            and super().has_delete_permission(request, obj)
        )

    @admin.display(description=_("status"))
    def url_status(self, item: NoticeItem) -> str:
        return item.url.get_status_display()

    @admin.display(description=_("category"))
    def url_category(self, item: NoticeItem) -> str:
        return item.url.get_category_display()


class NoticeEventInline(admin.TabularInline):
    model = NoticeEvent
    verbose_name_plural = _("timeline")
    extra = 0
    can_delete = False
    max_num = 0
    fields = ["at", "actor", "from_status", "to_status", "reason_shown"]
    readonly_fields = fields

    @admin.display(description=_("reason"))
    def reason_shown(self, event: NoticeEvent) -> str:
        return localized_reason(event.reason)


class CounterNoticeInline(admin.TabularInline):
    model = CounterNotice
    extra = 0
    can_delete = False
    max_num = 0
    fields = ["received_at", "counter_party", "summary", "restore_earliest", "restore_latest", "recorded_by"]
    readonly_fields = fields


class NoticeForm(forms.ModelForm):
    class Meta:
        model = Notice
        fields = ["artist", "platform", "legal_route", "locale"]


def _received_at(raw: str) -> datetime:
    raw = raw.strip()
    try:
        received = datetime.fromisoformat(raw) if raw else timezone.now()
    except ValueError:
        raise notices.Invalid(f"{raw!r} is not a date (YYYY-MM-DD).") from None
    return timezone.make_aware(received) if timezone.is_naive(received) else received


def _by_webform(notice: Notice) -> bool:
    """The notice's route goes to the platform through a web form (the registry's channel per route)."""
    channel = notice.route_channel
    return channel is not None and channel.kind == ChannelKind.WEBFORM


def _said(notice: Notice) -> str:
    """What just happened, in words: never "sent" for a notice that has only been queued."""
    if notice.status == NoticeStatus.SENDING:
        return _("queued for email to %(to)s; it is sent when the mail server accepts it.") % {
            "to": notice.recipient
        }
    if notice.status == NoticeStatus.SENT and notice.channel == ChannelKind.WEBFORM:
        return _("sent: the web form submission is recorded (reference %(ref)s).") % {"ref": notice.reference}
    if notice.status == NoticeStatus.SENT:
        return _("sent: the mail server accepted it.")
    return _("%(status)s.") % {"status": notice.get_status_display()}


FIELD_LABELS = {
    "reason": _("Reason"),
    "reference": _("Reference"),
    "outcome": _("Outcome"),
    "received_at": _("Received on"),
    "counter_party": _("From"),
    "summary": _("Summary"),
}


def _shown_value(name: str, value: str) -> str:
    if name == "outcome":
        return str(dict(NoticeOutcome.choices).get(value, value))
    return value


def consequence(action: str, notice: Notice, given: dict[str, str]) -> str:
    """What pressing the button will do, said before it is done."""
    n = notice.pk
    platform = notice.platform.name if notice.platform_id else "–"
    hours = notices.deadline_hours(notice) if notice.platform_id else None
    channel = notice.route_channel
    recipient = notice.recipient or (channel.email if channel is not None else "") or ""
    if action == "submit":
        return _(
            "Submit notice #%(n)d for legal review? Its PDF is frozen now: legal approves exactly "
            "these bytes, and its URLs can no longer change."
        ) % {"n": n}
    if action == "approve":
        return _("Approve notice #%(n)d? It can then be sent to %(platform)s; another step sends it.") % {
            "n": n,
            "platform": platform,
        }
    if action == "reject":
        return _("Reject notice #%(n)d? Its author can revise it into a new draft.") % {"n": n}
    if action == "send" and _by_webform(notice):
        return _(
            "Record notice #%(n)d as submitted through %(platform)s's web form now? The %(hours)s h "
            "deadline starts."
        ) % {"n": n, "platform": platform, "hours": hours}
    if action == "send":
        return _("Send by email to %(to)s now? The %(hours)s h deadline starts.") % {
            "to": recipient or platform,
            "hours": hours,
        }
    if action == "retry":
        return _("Try the email to %(to)s again now?") % {"to": recipient or platform}
    if action == "resend":
        return _("Send notice #%(n)d again by email to %(to)s, with the same Message-ID?") % {
            "n": n,
            "to": recipient or platform,
        }
    if action == "confirm_sent":
        return _("Record notice #%(n)d as delivered? Its deadline counts from the attempt.") % {"n": n}
    if action == "cancel":
        return _("Cancel notice #%(n)d? It will not be sent.") % {"n": n}
    if action == "revise":
        return _("Start a new draft from rejected notice #%(n)d with its URLs that are still open?") % {
            "n": n
        }
    if action == "acknowledge":
        return _("Record that %(platform)s acknowledged notice #%(n)d?") % {"n": n, "platform": platform}
    if action == "close":
        return _("Close notice #%(n)d with the outcome “%(outcome)s”? It cannot be reopened.") % {
            "n": n,
            "outcome": _shown_value("outcome", given.get("outcome", "")) or "–",
        }
    if action == "withdraw":
        return _(
            "Withdraw notice #%(n)d? Its URLs go back to open and their deadline stops; the "
            "platform is not told by this system."
        ) % {"n": n}
    if action == "counter":
        return _("Record a counter-notice against notice #%(n)d? The notice's state does not change.") % {
            "n": n
        }
    return str(notices.WORKFLOW[action].button)


def _draft_text(notice: Notice) -> tuple[str, str]:
    """The draft's text as it would read now (no PDF, nothing stored), or why it cannot be."""
    if notice.items.count() > DRAFT_TEXT_MAX_ITEMS:
        return "", str(_("This draft lists many URLs: open the PDF preview to read it."))
    template = notices.notice_template(notice)
    if template is None:
        return "", str(_("No active template fits this notice's language and legal route."))
    try:
        rendered = rendering.render_notice(template.subject, template.body, notices.notice_context(notice))
    except (rendering.TemplateError, notices.Invalid) as exc:
        return "", str(exc)
    return f"{rendered.subject}\n\n{rendered.text}", ""


DRAFT_TEXT_MAX_ITEMS = 300


def _run_action(action: str, notice_id: int, request: HttpRequest):
    """A workflow button, dispatched by the table (takedown.notices.states) with its fields."""
    if action == "submit":
        # A large notice renders in the background; the job's page follows it.
        return jobs.notice_submit_now_or_later(user=request.user, notice_id=notice_id)
    given = {name: request.POST.get(name, "") for name in notices.WORKFLOW[action].fields}
    if "received_at" in given:
        given["received_at"] = _received_at(given["received_at"])
    return notices.perform(action, notice_id=notice_id, user=request.user, **given)


_SENT = {"review", "delivery", "outcome"}
# Which groups of facts a notice has reached in each state (the rest is hidden).
STAGE_REACH: dict[str, set[str]] = {
    NoticeStatus.DRAFT: {"draft"},
    NoticeStatus.PENDING: {"draft", "submitted"},
    NoticeStatus.APPROVED: {"draft", "submitted", "review"},
    NoticeStatus.REJECTED: {"draft", "submitted", "review"},
    NoticeStatus.CANCELLED: {"draft", "submitted", "review", "delivery"},
    NoticeStatus.SENDING: {"draft", "submitted", "review", "delivery"},
    NoticeStatus.DELIVERY_FAILED: {"draft", "submitted", "review", "delivery"},
    NoticeStatus.DELIVERY_UNKNOWN: {"draft", "submitted", "review", "delivery"},
    NoticeStatus.SENT: {"draft", "submitted", *_SENT},
    NoticeStatus.ACKNOWLEDGED: {"draft", "submitted", *_SENT},
    NoticeStatus.CLOSED: {"draft", "submitted", *_SENT},
    NoticeStatus.WITHDRAWN: {"draft", "submitted", *_SENT},
}
_DELIVERY_FIELDS = (
    "channel recipient sent_by sent_at deadline_at deadline_basis reference message_id "
    "delivery_attempts delivery_error_shown"
).split()
# Fields shown through a method of the admin (in the reader's language), and the field they show.
_SHOWN_AS = {"delivery_error_shown": "delivery_error"}
STAGE_FIELDS = (
    ("draft", _("Drafted"), ["created_by", "created_at", "template", "revision_of"]),
    ("submitted", _("Submitted"), ["submitted_by", "submitted_at", "rendered_subject", "pdf_sha256"]),
    ("review", _("Legal review"), ["reviewed_by", "reviewed_at", "rejection_reason"]),
    ("delivery", _("Delivery"), _DELIVERY_FIELDS),
    ("outcome", _("Outcome"), ["acknowledged_at", "closed_at", "outcome"]),
)


@admin.register(Notice)
class NoticeAdmin(AgencyScoped, admin.ModelAdmin):
    form = NoticeForm
    list_display = [
        "__str__",
        "status",
        "legal_route",
        "locale",
        "item_count",
        "created_by",
        "submitted_at",
        "sent_at",
        "deadline_at",
    ]
    list_filter = ["status", "legal_route", "platform", "locale"]
    list_select_related = ["artist", "platform", "created_by"]
    search_fields = ["artist__name", "artist__name_ko", "reference", "rendered_subject"]
    autocomplete_fields = ["artist"]
    inlines = [NoticeItemInline, CounterNoticeInline, NoticeEventInline]
    change_form_template = "admin/takedown/notice/change_form.html"
    change_list_template = "admin/takedown/notice/change_list.html"
    readonly_fields = [
        "status",
        "created_by",
        "created_at",
        "submitted_at",
        "submitted_by",
        "reviewed_by",
        "reviewed_at",
        "rejection_reason",
        "template",
        "rendered_subject",
        "pdf_sha256",
        "channel",
        "recipient",
        "sent_by",
        "sent_at",
        "deadline_at",
        "deadline_basis",
        "message_id",
        "reference",
        "delivery_error_shown",
        "delivery_attempts",
        "acknowledged_at",
        "closed_at",
        "outcome",
        "revision_of",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != NoticeStatus.DRAFT:
            return ["artist", "platform", "legal_route", "locale", *self.readonly_fields]
        if obj is not None:
            return ["artist", "platform", "legal_route", *self.readonly_fields]
        return []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["artist", "platform", "legal_route", "locale"]
        return [name for _title, group in self.get_fieldsets(request, obj) for name in group["fields"]]

    def get_fieldsets(self, request, obj=None):
        """What applies to the notice's stage, and of that only what has a value (a draft shows
        no empty "sent by" or "outcome"); the notice's own four fields always."""
        if obj is None:
            return [(None, {"fields": ["artist", "platform", "legal_route", "locale"]})]
        reached = STAGE_REACH.get(obj.status, set())
        fieldsets = [(None, {"fields": ["artist", "platform", "legal_route", "locale", "status"]})]
        for key, title, names in STAGE_FIELDS:
            if key not in reached:
                continue
            shown = [n for n in names if getattr(obj, _SHOWN_AS.get(n, n), None) not in (None, "", 0)]
            if shown:
                fieldsets.append((title, {"fields": shown}))
        return fieldsets

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_items=Count("items"))

    @admin.display(description=_("delivery error"))
    def delivery_error_shown(self, obj: Notice) -> str:
        return localized_reason(obj.delivery_error)

    @admin.display(description=_("deadline basis"))
    def deadline_basis(self, obj: Notice) -> str:
        return obj.deadline_basis

    @admin.display(description=_("URLs"), ordering="_items")
    def item_count(self, obj: Notice) -> int:
        return obj._items

    def save_model(self, request, obj, form, change):
        if not change:
            created = notices.notice_create(
                user=request.user,
                artist_id=obj.artist_id,
                platform_id=obj.platform_id,
                legal_route=obj.legal_route,
                locale=obj.locale,
            )
            obj.pk, obj.agency_id, obj.created_by = created.pk, created.agency_id, created.created_by
            obj._state.adding = False
            return
        # On a draft only the language is editable; it goes through the service so that the
        # change is on the timeline and its author counts as a contributor.
        if "locale" in form.changed_data:
            try:
                notices.notice_change_language(notice_id=obj.pk, user=request.user, locale=obj.locale)
            except (notices.Conflict, notices.NotAllowed, notices.Invalid) as exc:
                messages.error(request, str(exc))

    def save_formset(self, request, form, formset, change):
        if formset.model is NoticeItem:
            # Items leave a draft through the service, so that the removal is on the timeline
            # and counts its author as a contributor (four-eyes).
            doomed = [f.instance for f in formset.deleted_forms if f.instance.pk]
            if doomed:
                notices.notice_remove_items(
                    notice_id=form.instance.pk, user=request.user, item_ids=[i.pk for i in doomed]
                )
            # What the admin's change message reads (nothing is added or edited inline).
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], doomed
            return
        super().save_formset(request, form, formset, change)

    def has_change_permission(self, request, obj=None):
        # Frozen notices are changed only through the workflow buttons.
        if obj is not None and obj.status != NoticeStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        notice = self.get_object(request, object_id)
        extra = {"show_save_and_add_another": False, **(extra_context or {})}
        if notice is not None:
            extra.update(self._workflow_context(request, notice))
        return super().change_view(request, object_id, form_url, extra)

    def add_view(self, request, form_url="", extra_context=None):
        extra = {"show_save_and_add_another": False, **(extra_context or {})}
        return super().add_view(request, form_url, extra)

    def _workflow_context(self, request, notice: Notice) -> dict:
        user = request.user
        reviewer = role_has(user, notices.WORKFLOW["approve"].permission)
        may_review = notices.may_review(notice, user) if notice.status == NoticeStatus.PENDING else False
        actions = [{"name": a.name, "label": a.button} for a in notices.available(notice, user)]
        problems = notices.presend_problems(notice) if notice.status == NoticeStatus.DRAFT else []
        preview_text, preview_error = _draft_text(notice) if notice.status == NoticeStatus.DRAFT else ("", "")
        return {
            "preview_text": preview_text,
            "preview_error": preview_error,
            "deadline_hours": notices.deadline_hours(notice) if notice.platform_id else None,
            "send_label": notices.WORKFLOW["send"].button,
            "workflow_actions": actions,
            "four_eyes_note": reviewer and notice.status == NoticeStatus.PENDING and not may_review,
            "presend_problems": problems,
            "notice": notice,
            "delivery_states": [str(s) for s in notices.DELIVERY_STATES],
            "delivery_error": localized_reason(notice.delivery_error),
            "outcomes": NoticeOutcome.choices,
            "has_pdf": bool(notice.pdf_sha256),
            "is_webform": _by_webform(notice),
        }

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("queue/", wrap(self.queue_view), name="takedown_notice_queue"),
            path("<int:pk>/pdf/", wrap(self.pdf_view), name="takedown_notice_pdf"),
            path("<int:pk>/preview.pdf", wrap(self.preview_pdf_view), name="takedown_notice_preview_pdf"),
            path("<int:pk>/packet/", wrap(self.packet_view), name="takedown_notice_packet"),
            path("<int:pk>/do/<str:action>/", wrap(self.action_view), name="takedown_notice_action"),
            *super().get_urls(),
        ]

    def _notice(self, request, pk: int) -> Notice:
        return get_object_or_404(
            self.get_queryset(request).select_related("platform", "artist", "agency"), pk=pk
        )

    def action_view(self, request: HttpRequest, pk: int, action: str):
        if request.method != "POST":
            return HttpResponse(status=405)
        if action not in notices.WORKFLOW or not notices.WORKFLOW[action].button:
            raise Http404
        notice = self._notice(request, pk)
        back = request.POST.get("next") or reverse("admin:takedown_notice_change", args=[notice.pk])
        if not back.startswith("/") or back.startswith("//"):
            back = reverse("admin:takedown_notice_change", args=[notice.pk])
        if request.POST.get("confirm") != "yes":
            # Nothing changes before the person has read what will happen and said yes.
            return self._confirm_page(request, notice, action, back)
        try:
            result = _run_action(action, notice.pk, request)
        except notices.PresendFailed as exc:
            for problem in exc.problems:
                messages.error(request, problem)
        except (notices.Conflict, notices.NotAllowed, notices.Invalid, rendering.TemplateError) as exc:
            messages.error(request, str(exc))
        else:
            if isinstance(result, Job):
                messages.info(
                    request,
                    _("Notice #%(pk)d lists %(n)d URLs: it is being rendered in the background.")
                    % {"pk": notice.pk, "n": result.total},
                )
                return HttpResponseRedirect(reverse("admin:takedown_job_change", args=[result.pk]))
            if isinstance(result, Notice) and result.pk != notice.pk:
                messages.success(request, _("New draft #%(pk)d started.") % {"pk": result.pk})
                return HttpResponseRedirect(reverse("admin:takedown_notice_change", args=[result.pk]))
            notice.refresh_from_db()
            if action == "approve" and back == reverse("admin:takedown_notice_queue"):
                # The queue offers the next step for what was just approved.
                back = f"{back}?approved={notice.pk}"
            link = reverse("admin:takedown_notice_change", args=[notice.pk])
            if notice.status == NoticeStatus.APPROVED and _by_webform(notice):
                link = reverse("admin:takedown_notice_packet", args=[notice.pk])
            messages.success(
                request, format_html('<a href="{}">Notice #{}</a>: {}', link, notice.pk, _said(notice))
            )
        return HttpResponseRedirect(back)

    def _confirm_page(self, request: HttpRequest, notice: Notice, action: str, back: str):
        spec = notices.WORKFLOW[action]
        given = {name: request.POST.get(name, "") for name in spec.fields}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Confirm: %(action)s") % {"action": spec.button},
            "notice": notice,
            "action": action,
            "button": spec.button,
            "what": consequence(action, notice, given),
            "given": given,
            "shown": [(FIELD_LABELS.get(k, k), _shown_value(k, v)) for k, v in given.items() if v],
            "back": back,
            "cancel_url": back
            if back.startswith("/")
            else reverse("admin:takedown_notice_change", args=[notice.pk]),
        }
        return TemplateResponse(request, "admin/takedown/notice/confirm.html", context)

    def queue_view(self, request: HttpRequest):
        pending = (
            self.get_queryset(request)
            .filter(status=NoticeStatus.PENDING)
            .select_related("artist", "platform", "created_by")
            .order_by("submitted_at", "pk")
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Approval queue"),
            "notices": pending,
            "can_review": role_has(request.user, "review_notice"),
            # Four-eyes, as the services decide it (one query per notice waiting; the queue is short).
            "shaped_by_me": {n.pk for n in pending if not notices.may_review(n, request.user)},
            "approved_now": self._just_approved(request),
            "send_label": notices.WORKFLOW["send"].button,
        }
        return TemplateResponse(request, "admin/takedown/notice/queue.html", context)

    def _just_approved(self, request: HttpRequest) -> Notice | None:
        raw = request.GET.get("approved", "")
        if not raw.isdigit():
            return None
        notice = (
            self.get_queryset(request)
            .filter(pk=int(raw), status=NoticeStatus.APPROVED)
            .select_related("platform", "artist")
            .first()
        )
        if notice is not None:
            notice.by_webform = _by_webform(notice)
        return notice

    @xframe_options_sameorigin
    def pdf_view(self, request: HttpRequest, pk: int):
        notice = self._notice(request, pk)
        if not notice.pdf:
            raise Http404("This notice has not been rendered yet: it is frozen when submitted.")
        response = HttpResponse(bytes(notice.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{notices.notice_reference(notice)}.pdf"'
        response["X-Content-SHA256"] = notice.pdf_sha256
        return response

    @xframe_options_sameorigin
    def preview_pdf_view(self, request: HttpRequest, pk: int):
        """A draft rendered as it would be now (not frozen; nothing is stored)."""
        notice = self._notice(request, pk)
        try:
            # Bounded (time, memory, pages): PdfLimitExceeded is a TemplateError naming the bound.
            pdf = notices.render_notice_now(notice, preview=True).pdf
        except notices.Invalid as exc:
            raise Http404(str(exc)) from None
        except rendering.TemplateError as exc:
            return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
        return HttpResponse(pdf, content_type="application/pdf")

    def packet_view(self, request: HttpRequest, pk: int):
        """What staff paste into a platform's web form, with the form's link and the PDF."""
        notice = self._notice(request, pk)
        if not notice.pdf_sha256:
            raise Http404
        urls = list(notice.items.values_list("url__normalized_url", flat=True))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Submission packet for notice #%(pk)d") % {"pk": notice.pk},
            "notice": notice,
            "urls": urls,
            "can_send": role_has(request.user, "review_notice") and notice.status == NoticeStatus.APPROVED,
            "send_label": notices.WORKFLOW["send"].button,
        }
        return TemplateResponse(request, "admin/takedown/notice/packet.html", context)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = NoticeTemplate
        fields = ["name", "legal_route", "locale", "platform", "subject", "body", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 30, "cols": 110, "style": "font-family: monospace"})}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            rendering.validate_template(
                data["subject"], data["body"], route=data["legal_route"], locale=data["locale"]
            )
        except rendering.TemplateError as exc:
            raise forms.ValidationError({"body": str(exc)}) from None
        return data


@admin.register(NoticeTemplate)
class NoticeTemplateAdmin(AgencyScoped, admin.ModelAdmin):
    form = TemplateForm
    list_display = [
        "name",
        "owner",
        "legal_route",
        "locale",
        "platform",
        "version",
        "is_active",
        "created_by",
        "created_at",
    ]
    list_filter = ["legal_route", "locale", "is_active", "platform"]
    search_fields = ["name", "subject", "body"]
    readonly_fields = ["version", "created_by", "created_at"]
    change_form_template = "admin/takedown/noticetemplate/change_form.html"

    @admin.display(description=_("owner"), ordering="agency__name")
    def owner(self, obj: NoticeTemplate) -> str:
        return str(obj.agency) if obj.agency_id else _("Shipped default")

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        # Editing never overwrites: the edit becomes the next version, notices keep theirs.
        # Editing a shipped default makes this agency's own copy (template_save).
        copy_of_default = change and obj.agency_id is None and not request.user.is_superuser
        saved = notices.template_save(
            user=request.user,
            base=obj if change else None,
            name=obj.name,
            legal_route=obj.legal_route,
            locale=obj.locale,
            platform_id=obj.platform_id,
            subject=obj.subject,
            body=obj.body,
        )
        obj.pk, obj.version, obj.created_by, obj.created_at, obj.agency_id = (
            saved.pk,
            saved.version,
            saved.created_by,
            saved.created_at,
            saved.agency_id,
        )
        obj._state.adding = False
        if copy_of_default:
            messages.info(
                request,
                _(
                    "Saved as your agency's own copy (version %(v)d); only your agency's notices use it. "
                    "The shipped default is unchanged."
                )
                % {"v": saved.version},
            )

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="takedown_noticetemplate_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, pk: int):
        """Render the template against a chosen draft of the user's agency, or sample data."""
        template = get_object_or_404(self.get_queryset(request), pk=pk)
        drafts = (
            Notice.objects.visible_to(request.user)
            .filter(legal_route=template.legal_route, status=NoticeStatus.DRAFT)
            .select_related("artist", "platform")[:50]
        )
        notice_id = request.GET.get("notice")
        if notice_id:
            notice = get_object_or_404(Notice.objects.visible_to(request.user), pk=notice_id)
            context = notices.notice_context(notice)
            source = str(notice)
        else:
            context = rendering.sample_context(locale=template.locale, route=template.legal_route)
            source = _("sample data (fictional)")
        error = rendered = None
        try:
            rendered = rendering.render_notice(template.subject, template.body, context)
        except rendering.TemplateError as exc:
            error = str(exc)
        ctx = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Preview: %(t)s") % {"t": template},
            "template_obj": template,
            "drafts": drafts,
            "source": source,
            "rendered": rendered,
            "error": error,
        }
        return TemplateResponse(request, "admin/takedown/noticetemplate/preview.html", ctx)

    def has_add_permission(self, request):
        return role_has(request.user, "add_noticetemplate")

    def has_change_permission(self, request, obj=None):
        return role_has(request.user, "change_noticetemplate")


@admin.register(NoticeEvent)
class NoticeEventAdmin(AgencyScoped, ReadOnly, admin.ModelAdmin):
    list_display = ["notice", "at", "actor", "from_status", "to_status", "reason_shown"]
    list_filter = ["to_status"]

    @admin.display(description=_("reason"))
    def reason_shown(self, event: NoticeEvent) -> str:
        return localized_reason(event.reason)
