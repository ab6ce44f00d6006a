"""The schema: who owns what, what was seen, what was sent.

State changes go through the services (takedown.notices, lifecycle, importing, rechecks);
the admin shows status fields read-only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from takedown import legal
from takedown.choices import (
    CaseStatus,
    Category,
    ChainKind,
    ChannelKind,
    LegalRoute,
    Locale,
    NoticeOutcome,
    NoticeStatus,
    Role,
    Source,
    URLStatus,
    Verdict,
)

MARKER_KEYS = (
    "removed",
    "soft_removed",
    "restricted",
    "legally_blocked",
    "inconclusive",
    "removed_redirects",
)


def validate_time_zone(value: str) -> None:
    """An IANA time zone name the system knows (Asia/Seoul), else a clear error."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        if not value or value != value.strip() or len(value) > 64:
            raise ValueError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(
            _("%(value)s is not a time zone name (for example Asia/Seoul or Europe/Berlin)."),
            params={"value": value[:64]},
            code="invalid",
        ) from None


class AgencyQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> AgencyQuerySet:
        return self if user.is_superuser else self.filter(pk=user.agency_id)


class Agency(models.Model):
    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    name_ko = models.CharField(_("Korean name"), max_length=200, blank=True)
    slug = models.SlugField(max_length=80, unique=True, verbose_name=_("slug"))
    address = models.TextField(blank=True, verbose_name=_("address"))
    email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(max_length=50, blank=True, verbose_name=_("phone"))
    website = models.URLField(blank=True, verbose_name=_("website"))
    signatory_name = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("The person who signs notices for the agency."),
        verbose_name=_("signatory name"),
    )
    signatory_title = models.CharField(max_length=200, blank=True, verbose_name=_("signatory title"))
    # Korean notices are signed in Korean: "법무팀장 한지윤", never the English name mixed in.
    signatory_name_ko = models.CharField(_("signatory's Korean name"), max_length=200, blank=True)
    signatory_title_ko = models.CharField(_("signatory's Korean title"), max_length=200, blank=True)
    dsa_member_state = models.CharField(
        _("DSA Member State"),
        max_length=2,
        blank=True,
        choices=[(code, state.name) for code, state in legal.DSA_MEMBER_STATES.items()],
        help_text=_(
            "The Member State whose law DSA notices rely on, item by item (takedown/legal.py lists "
            "the provisions). Empty: DSA notices cannot be sent."
        ),
    )
    # Legal reviewers, managers and superusers always need one; staff only where the agency says.
    require_staff_second_factor = models.BooleanField(
        _("require a second factor for staff too"),
        default=False,
        help_text=_("Staff must then set up an authenticator app before they can use the admin."),
    )
    # Every time the admin shows is in the agency's zone (takedown.localtime), whatever the
    # server's TIME_ZONE: a Seoul team reads deadlines in Seoul time.
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Asia/Seoul",
        validators=[validate_time_zone],
        help_text=_("An IANA zone name such as Asia/Seoul or Europe/Berlin: every time shown is in it."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    objects = AgencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> UserQuerySet:
        return self if user.is_superuser else self.filter(agency_id=user.agency_id)


class TakedownUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person or API client of one agency. Superusers may have no agency."""

    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAFF)

    objects = TakedownUserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_agency_unless_superuser",
                condition=Q(is_superuser=True) | Q(agency__isnull=False),
            )
        ]

    def clean(self) -> None:
        super().clean()
        if not self.is_superuser and self.agency_id is None:
            raise ValidationError({"agency": _("Every user except a superuser belongs to an agency.")})


class ArtistQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> ArtistQuerySet:
        return self if user.is_superuser else self.filter(agency_id=user.agency_id)


class Artist(models.Model):
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="artists"
    )
    name = models.CharField(_("name"), max_length=200)
    name_ko = models.CharField(_("Korean name"), max_length=200, blank=True)
    slug = models.SlugField(_("slug"), max_length=80)
    is_group = models.BooleanField(
        _("group"),
        default=False,
        help_text=_(
            "A group is not a person: notices about a depiction name the member depicted, each "
            "by their own authorization."
        ),
    )
    aliases = models.JSONField(
        _("aliases"), default=list, blank=True, help_text=_("Other names, one per entry.")
    )
    official_accounts = models.JSONField(
        _("official accounts"),
        default=list,
        blank=True,
        help_text=_(
            "The artist's own accounts and sites (URLs such as https://x.com/artist, or bare "
            "domains such as artist.com). URLs on them are refused at intake."
        ),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ArtistQuerySet.as_manager()

    class Meta:
        verbose_name = _("artist")
        verbose_name_plural = _("artists")
        ordering = ["name"]
        constraints = [
            # Serves intake's lookup by (agency, slug) from CSV rows, the CLI and the API.
            models.UniqueConstraint(fields=["agency", "slug"], name="artist_slug_per_agency"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.name_ko})" if self.name_ko else self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        # The URL rows carry the agency: an artist moved to another agency takes them along.
        InfringingURL.objects.filter(artist_id=self.pk).exclude(agency_id=self.agency_id).update(
            agency_id=self.agency_id
        )

    def clean(self) -> None:
        super().clean()
        for field in ("aliases", "official_accounts"):
            value = getattr(self, field)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValidationError({field: _("Enter a list of text values.")})


class RightsRecordQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> RightsRecordQuerySet:
        return self if user.is_superuser else self.filter(artist__agency_id=user.agency_id)


class RightsRecord(models.Model):
    """A work or photo the agency holds the rights to: the DMCA route needs one."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("Photo")
        VIDEO = "video", _("Video / music video")
        MUSIC = "music", _("Music / recording")
        ARTWORK = "artwork", _("Artwork / design")
        OTHER = "other", _("Other")

    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="rights")
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PHOTO)
    description = models.TextField(blank=True)
    original_url = models.URLField(max_length=2048, blank=True)
    registration = models.CharField(
        max_length=200, blank=True, help_text=_("Copyright registration number, if any.")
    )

    class OwnerKind(models.TextChoices):
        AGENCY = "agency", _("The agency")
        ARTIST = "artist", _("The artist (by their authorization)")
        OTHER = "other", _("Someone else")

    owner = models.CharField(max_length=200, help_text=_("Who holds the rights (usually the agency)."))
    owner_kind = models.CharField(
        _("the owner is"),
        max_length=10,
        choices=OwnerKind.choices,
        default=OwnerKind.AGENCY,
        help_text=_(
            "The agency's authority to claim the work rests on this: its own rights, or the "
            "artist's authorization on file. For someone else's work the agency has none."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = RightsRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("rights record")
        verbose_name_plural = _("rights records")
        ordering = ["artist", "title"]

    def __str__(self) -> str:
        return self.title


class AuthorizationQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> AuthorizationQuerySet:
        return self if user.is_superuser else self.filter(artist__agency_id=user.agency_id)

    def covering(self, route: str, on: date) -> AuthorizationQuerySet:
        """Those in force on `on` for `route` (routes are few: filtered in Python by callers
        that need portability; JSON containment differs between SQLite and PostgreSQL)."""
        return self.filter(valid_from__lte=on, revoked_at__isnull=True).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=on)
        )


class Authorization(models.Model):
    """A person's authorization of the agency to act for them (the 위임), as it is on file.

    It names the natural person it covers: for a group, one per member, and a notice names
    the member an item depicts. Its documents (위임장, masked ID copy) are
    AuthorizationDocument rows, which only legal reviewers see.
    """

    artist = models.ForeignKey(
        Artist, verbose_name=_("artist"), on_delete=models.CASCADE, related_name="authorizations"
    )
    person_name = models.CharField(
        _("person covered"),
        max_length=200,
        help_text=_(
            "The natural person who authorized the agency, as notices name them (for a group: the member)."
        ),
    )
    person_name_ko = models.CharField(_("person covered, in Korean"), max_length=200, blank=True)
    scope = models.TextField(
        _("scope"),
        help_text=_("What the agency may do for the person, as the authorization says."),
    )
    routes = models.JSONField(_("legal routes"), default=list, help_text=_("The legal routes it covers."))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Empty: until revoked.")
    )
    revoked_at = models.DateField(_("revoked on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AuthorizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("authorization")
        verbose_name_plural = _("authorizations")
        ordering = ["artist", "person_name", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                name="authorization_dates_in_order",
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
            ),
        ]

    def __str__(self) -> str:
        person = f"{self.person_name} ({self.person_name_ko})" if self.person_name_ko else self.person_name
        return f"{person}, from {self.valid_from:%Y-%m-%d}"

    def covers(self, route: str, on: date) -> bool:
        return (
            str(route) in (self.routes or [])
            and self.valid_from <= on
            and (self.valid_until is None or self.valid_until >= on)
            and (self.revoked_at is None or self.revoked_at > on)
        )

    def clean(self) -> None:
        super().clean()
        routes = self.routes
        if not isinstance(routes, list) or not routes or not all(r in LegalRoute.values for r in routes):
            raise ValidationError({"routes": _("Choose at least one legal route.")})
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The end comes before the start.")})


class PrivateStorage(FileSystemStorage):
    """Where authorization documents live: outside the static and media paths, served by no
    URL. A legal reviewer downloads them through the admin, which checks the role first.

    The location is read from the settings on each use (TAKEDOWN_PRIVATE_DIR, or
    <TAKEDOWN_VAR_DIR>/private), so that tests and deployments can move it.
    """

    @property
    def base_location(self) -> str:  # type: ignore[override]
        configured = getattr(settings, "TAKEDOWN_PRIVATE_DIR", None)
        return str(configured or Path(settings.VAR_DIR) / "private")

    @property
    def location(self) -> str:  # type: ignore[override]
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("Authorization documents have no public URL.")


def private_storage() -> PrivateStorage:
    return PrivateStorage()


def _document_path(instance: AuthorizationDocument, filename: str) -> str:
    # Never the uploaded name in the path: it may hold a person's name or ID number.
    return f"authorizations/{instance.authorization_id}/{instance.sha256}.pdf"


class AuthorizationDocumentQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> AuthorizationDocumentQuerySet:
        """Legal reviewers of the agency, and superusers; nobody else, not even listed."""
        from takedown.roles import role_has

        if user.is_superuser:
            return self
        if not role_has(user, "view_authorizationdocument"):
            return self.none()
        return self.filter(authorization__artist__agency_id=user.agency_id)


class AuthorizationDocument(models.Model):
    """A document of an authorization, as the agency uploaded it (PDF only): the 위임장, or a
    copy of the person's ID with the numbers masked. Never rendered, never in the API."""

    class Kind(models.TextChoices):
        POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney (위임장)")
        ID_COPY = "id_copy", _("ID copy, numbers masked (신분증 사본)")

    authorization = models.ForeignKey(Authorization, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("document"), max_length=20, choices=Kind.choices)
    file = models.FileField(storage=private_storage, upload_to=_document_path, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AuthorizationDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("authorization document")
        verbose_name_plural = _("authorization documents")
        ordering = ["authorization", "kind", "-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.uploaded_at:%Y-%m-%d})"


@dataclass(frozen=True)
class RouteChannel:
    """Where a platform takes notices of one legal route, with the source of that fact."""

    route: str
    kind: str
    email: str = ""
    url: str = ""
    label: str = ""
    # A DMCA notice is effective only when sent to the designated agent (§512(c)(3)(A)).
    designated_agent: bool = False
    # The channel asks for the authorization's documents (위임장, masked ID copy).
    requires_documents: bool = False
    source: str = ""
    note: str = ""

    @property
    def address(self) -> str:
        return self.email if self.kind == ChannelKind.EMAIL else self.url


_CHANNEL_KEYS = {"kind", "email", "url", "label", "designated_agent", "requires_documents", "source", "note"}


class PlatformQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> PlatformQuerySet:
        # The registry is shared by every agency: platforms are public facts, not an agency's work.
        return self


class PlatformManager(models.Manager.from_queryset(PlatformQuerySet)):
    def get_by_natural_key(self, slug: str) -> Platform:
        return self.get(slug=slug)


class Platform(models.Model):
    """A registry row: where content lives, how to notify it, what removal looks like.

    Facts about a platform are data with their source beside them (`sources`), so that staff
    can correct them without a release.
    """

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    hosts = models.JSONField(
        _("hosts"),
        default=list,
        help_text=_("Host names; subdomains match too (m.youtube.com → youtube.com)."),
    )
    channel_kind = models.CharField(
        _("channel"), max_length=10, choices=ChannelKind.choices, default=ChannelKind.NONE
    )
    channel_email = models.EmailField(blank=True)
    channel_url = models.URLField(max_length=500, blank=True)
    default_route = models.CharField(
        _("default legal route"),
        max_length=20,
        choices=LegalRoute.choices,
        default=LegalRoute.PLATFORM_POLICY,
    )
    channels = models.JSONField(
        _("channels per legal route"),
        default=dict,
        blank=True,
        help_text=_(
            'Legal route → {"kind": "email" or "webform", "email" or "url", "label", '
            '"designated_agent" (DMCA only, true only for the registered agent), '
            '"requires_documents", "source" (a public URL for the fact), "note"}. Empty: the '
            "channel above, for the default route only."
        ),
    )
    response_deadline_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Empty: the route's own deadline applies.")
    )
    markers = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            "Page texts per verdict (removed, soft_removed, restricted, legally_blocked, "
            "inconclusive) and removed_redirects (patterns of redirect targets meaning removed). "
            'Write a text as "@<where> <text>" to say where the platform shows it: a CSS selector '
            "such as div.removed, or title, markup or page; a bare text is looked for in the "
            "platform's error box only. Text anywhere on the page or in the title can only make a "
            "check inconclusive."
        ),
    )
    detector = models.CharField(max_length=30, default="generic")
    sources = models.JSONField(default=dict, blank=True, help_text=_("Fact name → source URL."))
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    objects = PlatformManager()

    class Meta:
        verbose_name = _("platform")
        verbose_name_plural = _("platforms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    def channel_for(self, route: str) -> RouteChannel | None:
        """The platform's channel for notices of `route`, or None when it has none on record.

        A registry row without per-route channels has one channel, for its default route.
        """
        route = str(route)
        if not self.channels:
            if route != self.default_route or self.channel_kind == ChannelKind.NONE:
                return None
            address = self.channel_email if self.channel_kind == ChannelKind.EMAIL else self.channel_url
            if not address:
                return None
            return RouteChannel(
                route=route,
                kind=self.channel_kind,
                email=self.channel_email,
                url=self.channel_url,
                source=str((self.sources or {}).get("channel", "")),
            )
        entry = self.channels.get(route) if isinstance(self.channels, dict) else None
        if not isinstance(entry, dict) or entry.get("kind") not in (ChannelKind.EMAIL, ChannelKind.WEBFORM):
            return None
        channel = RouteChannel(route=route, **{k: v for k, v in entry.items() if k in _CHANNEL_KEYS})
        return channel if channel.address else None

    def _channel_problems(self) -> list[str]:
        if not isinstance(self.channels, dict):
            return [str(_("Enter an object of legal route → channel."))]
        problems = []
        for route, entry in self.channels.items():
            if route not in LegalRoute.values:
                problems.append(f"{route}: not a legal route")
                continue
            if not isinstance(entry, dict) or set(entry) - _CHANNEL_KEYS:
                problems.append(f"{route}: an object with the keys {', '.join(sorted(_CHANNEL_KEYS))}")
                continue
            kind = entry.get("kind")
            if kind not in (ChannelKind.EMAIL, ChannelKind.WEBFORM):
                problems.append(f"{route}: kind is email or webform")
            elif not entry.get("email" if kind == ChannelKind.EMAIL else "url"):
                problems.append(f"{route}: an {kind} channel needs its address")
            if not entry.get("source"):
                problems.append(f"{route}: give the public source of this channel")
            if entry.get("designated_agent") and route != LegalRoute.DMCA:
                problems.append(f"{route}: only a DMCA channel is a designated agent")
        return problems

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        channel_problems = self._channel_problems()
        if channel_problems:
            errors["channels"] = "; ".join(channel_problems)
        if not isinstance(self.hosts, list) or not all(isinstance(h, str) and h for h in self.hosts):
            errors["hosts"] = _("Enter a list of host names.")
        else:
            self.hosts = [h.strip().lower().rstrip(".") for h in self.hosts]
            bad = [h for h in self.hosts if "/" in h or ":" in h or " " in h]
            if bad:
                errors["hosts"] = _("Host names only, without scheme, port or path: %s") % ", ".join(bad)
        if not isinstance(self.markers, dict):
            errors["markers"] = _("Enter an object whose keys are %s and whose values are lists of text.") % (
                ", ".join(MARKER_KEYS)
            )
        else:
            from takedown.probing import PlatformRules

            problems = PlatformRules(detector=self.detector, markers=self.markers).problems()
            detector_problems = [p for p in problems if p.startswith("unknown detector")]
            marker_problems = [p for p in problems if p not in detector_problems]
            if detector_problems:
                errors["detector"] = "; ".join(detector_problems)
            if marker_problems:
                errors["markers"] = "; ".join(marker_problems)
        if self.channel_kind == ChannelKind.EMAIL and not self.channel_email:
            errors["channel_email"] = _("An email channel needs an address.")
        if self.channel_kind == ChannelKind.WEBFORM and not self.channel_url:
            errors["channel_url"] = _("A web-form channel needs the form's URL.")
        if not isinstance(self.sources, dict):
            errors["sources"] = _("Enter an object of fact name → source URL.")
        if errors:
            raise ValidationError(errors)


def _own_hosts(user: User):
    """The hosts of the user's agency's URLs: host names often carry an artist's name, so which
    hosts an agency pursues is its own business."""
    return InfringingURL.objects.filter(artist__agency_id=user.agency_id).values("host")


class HostLookupQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> HostLookupQuerySet:
        return self if user.is_superuser else self.filter(host__in=_own_hosts(user))


class HostLookup(models.Model):
    """The last discovery for one host (takedown.contacts): what was asked, what answered."""

    host = models.CharField(_("host"), max_length=255, unique=True)
    addresses = models.JSONField(_("addresses"), default=list, blank=True)
    steps = models.JSONField(
        _("what was asked"),
        default=list,
        blank=True,
        help_text=_("Each source asked: its URL, found / none / unknown, why, and the answer's SHA-256."),
    )
    looked_up_at = models.DateTimeField(_("looked up at"), default=timezone.now)
    expires_at = models.DateTimeField(_("valid until"))
    # Until a source has answered (found or none), the host is not looked up: a discovery cut
    # short by the time budget, or one that failed, leaves it empty and the ladder waits.
    answered_at = models.DateTimeField(
        _("a source last answered at"),
        null=True,
        blank=True,
        help_text=_(
            "Empty until a lookup of this host has had an answer (found or none) from at least one source."
        ),
    )

    objects = HostLookupQuerySet.as_manager()

    class Meta:
        verbose_name = _("host lookup")
        verbose_name_plural = _("host lookups")
        ordering = ["host"]

    def __str__(self) -> str:
        return self.host


class AbuseContactQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> AbuseContactQuerySet:
        # A discovered abuse desk is the same for every agency, but only the hosts of an
        # agency's own URLs are its business (see _own_hosts). A contact staff recorded is their
        # agency's alone: it may name who the agency deals with.
        if user.is_superuser:
            return self
        return self.filter(
            Q(agency_id=user.agency_id)
            | (Q(agency__isnull=True, host__in=_own_hosts(user)) & ~Q(source=AbuseContact.Source.STAFF))
        )

    def current(self) -> AbuseContactQuerySet:
        return self.filter(is_current=True)

    def usable_by(self, agency_id) -> AbuseContactQuerySet:
        """The current contacts an agency's notices may use: its own staff's, and the discovered
        ones it has not set aside. ``agency_id`` may be an OuterRef; None gives the discovered
        facts alone (what the CLI shows)."""
        discovered = Q(agency__isnull=True) & ~Q(source=AbuseContact.Source.STAFF)
        if agency_id is None:
            return self.current().filter(discovered)
        # One subquery deeper, an outer reference has to reach one level further out.
        deeper = OuterRef(agency_id) if isinstance(agency_id, OuterRef) else agency_id
        set_aside = ContactSetAside.objects.filter(contact=OuterRef("pk"), agency_id=deeper)
        return self.current().filter(Q(agency_id=agency_id) | (discovered & ~Exists(set_aside)))


class AbuseContact(models.Model):
    """Where to report content on one host: its CDN, its network's abuse desk, the site's own
    contact, its registrar. Discovered ones carry their source, the URL asked, the raw answer's
    SHA-256 and the time; rediscovery replaces them. Staff's own are kept over rediscovery."""

    class Rung(models.TextChoices):
        CDN = "cdn", _("CDN / reverse proxy")
        HOST = "host", _("Hosting provider")
        SITE = "site", _("Site operator (security.txt)")
        REGISTRAR = "registrar", _("Registrar")

    class Source(models.TextChoices):
        CDN_RANGES = "cdn_ranges", _("CDN published ranges")
        RDAP_NETWORK = "rdap_network", _("RDAP, network")
        RDAP_DOMAIN = "rdap_domain", _("RDAP, domain")
        SECURITY_TXT = "security_txt", _("security.txt")
        STAFF = "staff", _("Staff")

    host = models.CharField(_("host"), max_length=255)
    # Staff's own contact belongs to their agency; a discovered one (no agency) is a shared fact.
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rung = models.CharField(_("recipient"), max_length=10, choices=Rung.choices)
    name = models.CharField(_("organisation"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    url = models.URLField(_("form or page"), max_length=500, blank=True)
    source = models.CharField(_("source"), max_length=15, choices=Source.choices)
    source_url = models.CharField(_("asked at"), max_length=500, blank=True)
    raw_sha256 = models.CharField(_("answer SHA-256"), max_length=64, blank=True)
    found_at = models.DateTimeField(_("found at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    # Discovered rows that a later discovery no longer finds stay (a sent notice names them)
    # but are not offered again.
    is_current = models.BooleanField(_("current"), default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AbuseContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("abuse contact")
        verbose_name_plural = _("abuse contacts")
        ordering = ["host", "rung", "-source", "pk"]
        constraints = [
            models.CheckConstraint(name="contact_has_address", condition=~Q(email="") | ~Q(url="")),
            # Discovered facts are shared: only staff's own contacts belong to an agency.
            models.CheckConstraint(
                name="contact_agency_only_staff", condition=Q(agency__isnull=True) | Q(source="staff")
            ),
        ]
        indexes = [
            # A host's contacts, for drafting and the URL page.
            models.Index(fields=["host", "is_current"], name="contact_host"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email or self.url}> ({self.get_rung_display()}, {self.host})"

    @property
    def by_staff(self) -> bool:
        return self.source == self.Source.STAFF

    def clean(self) -> None:
        super().clean()
        if not self.email and not self.url:
            raise ValidationError(_("Give an email address or the URL of a form."))
        self.host = (self.host or "").strip().lower().rstrip(".")

    def channel(self, route: str) -> RouteChannel:
        """Where a notice to this contact goes: its email when it has one, else its form."""
        provenance = (
            f"{self.get_source_display()}: {self.source_url}"
            if self.source_url
            else self.get_source_display()
        )
        if self.email:
            return RouteChannel(route=str(route), kind=ChannelKind.EMAIL, email=self.email,
                                label=self.name, source=provenance)  # fmt: skip
        return RouteChannel(
            route=str(route), kind=ChannelKind.WEBFORM, url=self.url, label=self.name, source=provenance
        )


class ContactSetAside(models.Model):
    """An agency's decision not to use a discovered contact (it corrected it, or set it aside):
    the contact stays a shared fact for the other agencies, and rediscovery does not undo it."""

    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        AbuseContact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="set_asides"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("set aside at"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("contact set aside")
        verbose_name_plural = _("contacts set aside")
        constraints = [
            # Also serves usable_by's NOT EXISTS (contact, agency) probe.
            models.UniqueConstraint(fields=["contact", "agency"], name="contact_set_aside_once"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} (set aside by agency #{self.agency_id})"


def url_text_match(text: str) -> Q:
    """Rows whose normalised URL or note holds `text` (case-insensitive; `text` not empty).

    On PostgreSQL each side has a trigram index on UPPER(column), what icontains compares; the
    note's index holds only rows with a note (most have none), so that side names the condition.
    """
    return Q(normalized_url__icontains=text) | (Q(note__icontains=text) & ~Q(note=""))


class InfringingURLQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> InfringingURLQuerySet:
        # The agency is on the row (kept equal to the artist's by `save` and intake), so the
        # scoped lists and counts use the (agency, discovered_at) index without a join.
        return self if user.is_superuser else self.filter(agency_id=user.agency_id)

    def due_for_check(self, now=None) -> InfringingURLQuerySet:
        return self.filter(next_check_at__lte=now or timezone.now())

    def bulk_create(self, objs, *args, **kwargs):
        """As Django's, with each row's agency taken from its artist (one query for all)."""
        objs = list(objs)
        missing = {o.artist_id for o in objs if o.artist_id is not None}
        agencies = (
            dict(Artist.objects.filter(pk__in=missing).values_list("pk", "agency_id")) if missing else {}
        )
        for o in objs:
            if o.artist_id is not None:
                o.agency_id = agencies.get(o.artist_id, o.agency_id)
        return super().bulk_create(objs, *args, **kwargs)

    def items(self) -> InfringingURLQuerySet:
        """One row per item: without the rows linked to another as the same item."""
        return self.filter(same_as__isnull=True)


class InfringingURL(models.Model):
    # No index of its own: the unique key (artist, normalized_url) and url_artist_status
    # both lead with it.
    artist = models.ForeignKey(
        Artist, verbose_name=_("artist"), on_delete=models.PROTECT, related_name="urls", db_index=False
    )
    # The artist's agency, copied onto the row: scoping, the list order and the statistics
    # read one table. `save` and intake set it; `Artist.save` carries a move along.
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
    )
    url = models.TextField(_("URL as reported"))
    normalized_url = models.CharField(_("normalised URL"), max_length=2048)
    host = models.CharField(_("host"), max_length=255)
    platform = models.ForeignKey(
        Platform,
        verbose_name=_("platform"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="urls",
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    legal_route = models.CharField(_("legal route"), max_length=20, choices=LegalRoute.choices)
    status = models.CharField(_("status"), max_length=20, choices=URLStatus.choices, default=URLStatus.OPEN)
    discovered_at = models.DateTimeField(_("discovered at"), default=timezone.now)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.ADMIN)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    work = models.ForeignKey(
        RightsRecord,
        verbose_name=_("work copied"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="copies",
        db_index=False,  # a partial index: see Meta.indexes
        help_text=_(
            "The work this item copies (a rights record of the same artist). A copyright claim "
            "is made only for an item that names one."
        ),
    )
    depicted_person = models.ForeignKey(
        Authorization,
        verbose_name=_("person depicted"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="depicting_urls",
        db_index=False,  # a partial index: see Meta.indexes
        help_text=_(
            "For a group: the member this item depicts, by their authorization. Empty for a solo "
            "artist: the artist's own authorization."
        ),
    )
    notice_facts = models.TextField(
        _("facts for the notice"),
        blank=True,
        help_text=_(
            "What the notice states about this item beyond its category, printed as written: for "
            "a real intimate image, how it is known to have been published without consent."
        ),
    )
    # Another row of the same artist that is this same item (one URL form folded to another,
    # or a short link that led to it). A linked row keeps its evidence and history but is
    # never drafted into a notice, never counted in stats and no longer checked.
    same_as = models.ForeignKey(
        "self",
        verbose_name=_("same item as"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="aliases",
        db_index=False,  # a partial index: see Meta.indexes
        help_text=_("Set when this URL turned out to be another form of an item already recorded."),
    )
    # Who posted it, where the URL or the checked page says so (takedown.cases.accounts_link).
    account = models.ForeignKey(
        "Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="urls",
        db_index=False,  # a partial index: see Meta.indexes
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    # Recheck bookkeeping (the recheck engine owns these).
    next_check_at = models.DateTimeField(_("next check"), null=True, blank=True)
    check_lease_until = models.DateTimeField(null=True, blank=True)
    check_claim = models.CharField(max_length=32, blank=True, editable=False)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_verdict = models.CharField(_("last verdict"), max_length=20, choices=Verdict.choices, blank=True)
    streak_verdict = models.CharField(
        max_length=20,
        choices=Verdict.choices,
        blank=True,
        help_text=_("The conclusive verdict of the current run of consecutive checks."),
        verbose_name=_("streak verdict"),
    )
    streak_count = models.PositiveIntegerField(default=0, verbose_name=_("streak count"))
    streak_since = models.DateTimeField(null=True, blank=True, verbose_name=_("streak since"))
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    overdue_since = models.DateTimeField(_("overdue since"), null=True, blank=True)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    reupload_count = models.PositiveIntegerField(_("re-uploads"), default=0)
    escalation = models.CharField(_("next escalation step"), max_length=300, blank=True)

    objects = InfringingURLQuerySet.as_manager()

    class Meta:
        verbose_name = _("infringing URL")
        verbose_name_plural = _("infringing URLs")
        ordering = ["-discovered_at", "-id"]
        constraints = [
            # One row per item per artist: intake's de-duplication rests on this.
            models.UniqueConstraint(fields=["artist", "normalized_url"], name="url_unique_per_artist"),
            models.CheckConstraint(
                name="url_removed_has_time",
                condition=~Q(status=URLStatus.REMOVED) | Q(removed_at__isnull=False),
            ),
        ]
        # Each index names the query it serves; docs/indexes.md lists them with the pages.
        indexes = [
            # The URL list's default order within an agency (admin, API): ORDER BY
            # discovered_at DESC, id DESC LIMIT n, and the capped count of that list.
            models.Index(fields=["agency", "-discovered_at", "-id"], name="url_agency_recent"),
            # Lists filtered by status within an artist ("what is still live"), drafting's
            # open URLs per artist, the artist filter of the admin and the API.
            models.Index(fields=["artist", "status"], name="url_artist_status"),
            # The recheck claim: WHERE next_check_at <= now ORDER BY next_check_at.
            models.Index(fields=["next_check_at"], name="url_due", condition=Q(next_check_at__isnull=False)),
            # A claimer reads back the rows its conditional UPDATE took.
            models.Index(fields=["check_claim"], name="url_claim", condition=~Q(check_claim="")),
            # The overdue list per agency, longest overdue first (ORDER BY deadline_at LIMIT 50).
            models.Index(
                fields=["agency", "deadline_at"],
                name="url_overdue",
                condition=Q(overdue_since__isnull=False, status="notified"),
            ),
            # The links most rows leave empty: an item's aliases, a work's copies, a depicted
            # person's items, an account's items, and the PROTECT / SET NULL checks on deleting
            # the row they point to (`col = x` implies `col IS NOT NULL`). Only the rows that
            # set one are in its index, so an import of rows without them writes none of these.
            *(
                models.Index(fields=[link], name=f"url_{link}", condition=Q(**{f"{link}__isnull": False}))
                for link in ("same_as", "work", "depicted_person", "account")
            ),
        ]

    def __str__(self) -> str:
        return self.normalized_url

    def save(self, *args, **kwargs) -> None:
        if self.artist_id is not None:
            artist = self._state.fields_cache.get("artist")
            if artist is None or artist.pk != self.artist_id:
                artist = Artist.objects.only("agency_id").get(pk=self.artist_id)
            self.agency_id = artist.agency_id
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.category and self.legal_route and not legal.may_carry(self.legal_route, self.category):
            errors["legal_route"] = legal.carry_refusal(self.legal_route, self.category)
        if self.work_id and self.artist_id and self.work.artist_id != self.artist_id:
            errors["work"] = _("The work must be one of this artist's rights records.")
        if self.depicted_person_id and self.artist_id and self.depicted_person.artist_id != self.artist_id:
            errors["depicted_person"] = _(
                "The person must be covered by one of this artist's authorizations."
            )
        if errors:
            raise ValidationError(errors)


class RollupCounts(models.Model):
    """The counts a rollup row carries for its URLs (shared by the day cells and the totals)."""

    urls = models.IntegerField(default=0)
    notified = models.IntegerField(default=0)
    live = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)
    reuploads = models.IntegerField(default=0)

    class Meta:
        abstract = True


class RemovalRollup(RollupCounts):
    """The statistics' rollup: URLs (items, not aliases) counted per agency, local discovery
    day, artist, platform, legal route and time-to-removal bucket.

    `bucket` is -1 for a URL that is not a confirmed removal, else `rollups.bucket_of` its time
    to removal. Never written by hand: `takedown.rollups` recomputes the cells that the
    database triggers on the URL table mark as changed (`RollupChange`), so every path that
    changes a URL keeps it right, `.update()` and raw SQL included. The ids are plain
    integers (platform 0: none matched): a cell outlives its artist or platform until the next
    refresh removes it.
    """

    agency_id = models.IntegerField()
    day = models.DateField()
    artist_id = models.IntegerField()
    platform_id = models.IntegerField()  # 0: no platform matched
    legal_route = models.CharField(max_length=20)
    bucket = models.SmallIntegerField()

    class Meta:
        # The statistics read an agency's cells over a period: WHERE agency_id = a AND day
        # BETWEEN ... (the unique key's leading columns serve it).
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "agency_id",
                    "day",
                    "artist_id",
                    "platform_id",
                    "legal_route",
                    "bucket",
                ],
                name="rollup_cell",
            )
        ]
        indexes = [
            # The refresh deletes an artist's cells for the days that changed.
            models.Index(fields=["artist_id", "day"], name="rollup_artist_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} artist {self.artist_id}: {self.urls} URL(s)"


class RemovalTotal(RollupCounts):
    """The rollup summed over all days: one row per agency, artist, platform, route and bucket.

    What the figures read when no period is asked for (the dashboard's and /stats/'s default):
    its size depends on the agency's artists, platforms and routes, not on its history.
    `rollups.refresh` adjusts it by the difference between the day cells it replaces and
    those it writes.
    """

    agency_id = models.IntegerField()
    artist_id = models.IntegerField()
    platform_id = models.IntegerField()  # 0: no platform matched
    legal_route = models.CharField(max_length=20)
    bucket = models.SmallIntegerField()

    class Meta:
        # The figures read an agency's rows (the key's leading column); the refresh an artist's.
        constraints = [
            models.UniqueConstraint(
                fields=["agency_id", "artist_id", "platform_id", "legal_route", "bucket"],
                name="rollup_total_cell",
            )
        ]

    def __str__(self) -> str:
        return f"agency {self.agency_id} artist {self.artist_id}: {self.urls} URL(s)"


class RemovalFigure(RollupCounts):
    """The rollup summed over all days along one dimension: per agency, dimension (the whole
    agency, a platform, a legal route or an artist), its key and the time-to-removal bucket.

    What the figures read without any filter (the dashboard's and /stats/'s default): one
    query returns at most (1 + platforms + routes + artists) x buckets rows, however many URLs
    and whatever mix of artists, platforms and routes the agency has. `rollups.refresh` adjusts
    it by the difference between the day cells it replaces and those it writes.
    """

    agency_id = models.IntegerField()
    dimension = models.CharField(max_length=8)  # "all", "platform", "route" or "artist"
    # "" for the whole agency, else the platform's or artist's id (platform "0": none matched)
    # or the route's value.
    key = models.CharField(max_length=20)
    bucket = models.SmallIntegerField()

    class Meta:
        # The figures read all of an agency's rows (the key's leading column); so does the
        # refresh that adjusts them.
        constraints = [
            models.UniqueConstraint(
                fields=["agency_id", "dimension", "key", "bucket"], name="rollup_figure_cell"
            )
        ]

    def __str__(self) -> str:
        return f"agency {self.agency_id} {self.dimension} {self.key}: {self.urls} URL(s)"


class AgencyWeek(models.Model):
    """The weekly trend without any filter: per agency and local week (Monday), the URLs
    discovered that week and the removals confirmed that week (one row a week, whatever the
    agency's artists, platforms and routes). Adjusted by `rollups.refresh` with `TrendWeek`.
    """

    agency_id = models.IntegerField()
    week = models.DateField()
    new = models.IntegerField(default=0)
    removed = models.IntegerField(default=0)

    class Meta:
        # The trend reads an agency's last 12 weeks (the key).
        constraints = [models.UniqueConstraint(fields=["agency_id", "week"], name="agency_week_cell")]

    def __str__(self) -> str:
        return f"agency {self.agency_id} week {self.week}: {self.new} new, {self.removed} removed"


class RemovalWeek(models.Model):
    """Confirmed removals per agency, local discovery day, artist, platform, legal route and
    the local week (Monday) of the removal: what the weekly trend reads when a period (of
    discovery) is asked for. Only removed URLs have cells. Recomputed with `RemovalRollup`.
    """

    agency_id = models.IntegerField()
    day = models.DateField()
    artist_id = models.IntegerField()
    platform_id = models.IntegerField()  # 0: no platform matched
    legal_route = models.CharField(max_length=20)
    week = models.DateField()
    removed = models.IntegerField(default=0)

    class Meta:
        # The trend reads an agency's cells over a period (the key's leading columns); the
        # refresh deletes an artist's cells for the days that changed.
        constraints = [
            models.UniqueConstraint(
                fields=["agency_id", "day", "artist_id", "platform_id", "legal_route", "week"],
                name="rollup_week_cell",
            )
        ]
        indexes = [models.Index(fields=["artist_id", "day"], name="rollup_week_artist_day")]

    def __str__(self) -> str:
        return f"{self.day} artist {self.artist_id}: {self.removed} removed in week {self.week}"


class TrendWeek(models.Model):
    """The weekly trend without a period: per agency, local week (Monday), artist, platform and
    route, the URLs discovered that week and the removals confirmed that week. Its size follows
    the weeks × artists × platforms × routes, not the number of URLs; the trend reads 12 weeks.
    `rollups.refresh` adjusts it by the difference of the day cells it replaces.
    """

    agency_id = models.IntegerField()
    week = models.DateField()
    artist_id = models.IntegerField()
    platform_id = models.IntegerField()  # 0: no platform matched
    legal_route = models.CharField(max_length=20)
    new = models.IntegerField(default=0)
    removed = models.IntegerField(default=0)

    class Meta:
        # The trend reads an agency's recent weeks (the key's leading columns); the refresh an
        # artist's weeks.
        constraints = [
            models.UniqueConstraint(
                fields=["agency_id", "week", "artist_id", "platform_id", "legal_route"],
                name="trend_week_cell",
            )
        ]
        indexes = [models.Index(fields=["artist_id", "week"], name="trend_week_artist")]

    def __str__(self) -> str:
        return f"week {self.week} artist {self.artist_id}: {self.new} new, {self.removed} removed"


class RollupChange(models.Model):
    """A URL row (its artist and discovery time) changed in a way the rollup counts.

    Written only by the database triggers of migration 0015, in the transaction of the change;
    `rollups.refresh` recomputes the cells they name and deletes them.
    """

    artist_id = models.IntegerField()
    discovered_at = models.DateTimeField()
    claimed = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"artist {self.artist_id} at {self.discovered_at:%Y-%m-%d %H:%M}"


class URLCheckQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> URLCheckQuerySet:
        return self if user.is_superuser else self.filter(url__agency_id=user.agency_id)


class URLCheck(models.Model):
    """Evidence of one look at a URL. Metadata and hashes only, never media."""

    url = models.ForeignKey(
        InfringingURL, on_delete=models.CASCADE, related_name="checks", verbose_name=_("URL")
    )
    checked_at = models.DateTimeField(default=timezone.now, verbose_name=_("checked at"))
    http_status = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("HTTP status"))
    final_url = models.TextField(blank=True, verbose_name=_("final URL"))
    redirect_chain = models.JSONField(default=list, blank=True, verbose_name=_("redirect chain"))
    headers = models.JSONField(default=dict, blank=True, verbose_name=_("headers"))
    body_sha256 = models.CharField(max_length=64, blank=True, verbose_name=_("body SHA-256"))
    title = models.CharField(max_length=500, blank=True, verbose_name=_("title"))
    excerpt = models.TextField(blank=True, verbose_name=_("excerpt"))
    verdict = models.CharField(max_length=20, choices=Verdict.choices, verbose_name=_("verdict"))
    reason = models.CharField(max_length=500, blank=True, verbose_name=_("reason"))
    # The rule that decided the verdict ("status.404", "youtube.playability.ERROR",
    # "dns.nxdomain.confirmed", "soft404.same_as_random_path"): reason is the sentence, this
    # is what evidence and statistics can be grouped and audited by.
    rule = models.CharField(_("rule"), max_length=100, blank=True)
    error = models.TextField(blank=True, verbose_name=_("error"))
    elapsed_ms = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("elapsed (ms)"))

    objects = URLCheckQuerySet.as_manager()

    class Meta:
        verbose_name = _("URL check")
        verbose_name_plural = _("URL checks")
        ordering = ["-checked_at", "-id"]
        indexes = [
            # A URL's check history, newest first.
            models.Index(fields=["url", "-checked_at"], name="check_url_time"),
        ]

    def __str__(self) -> str:
        return f"{self.verdict} @ {timezone.localtime(self.checked_at):%Y-%m-%d %H:%M}"


class NoticeTemplateQuerySet(models.QuerySet):
    def usable_by(self, agency_id: int | None) -> NoticeTemplateQuerySet:
        """The shipped defaults and the agency's own copies; never another agency's."""
        return self.filter(Q(agency__isnull=True) | Q(agency_id=agency_id))

    def visible_to(self, user: User) -> NoticeTemplateQuerySet:
        return self if user.is_superuser else self.usable_by(user.agency_id)


class NoticeTemplate(models.Model):
    """A Jinja2 notice template; editing makes a new version, notices keep theirs.

    Templates without an agency are the shipped defaults: shared, read-only to agencies. An
    agency's legal team edits its own copy (copy-on-write from a default), and only that
    agency's notices use it. Another agency's wording never reaches a notice: what a template
    says is signed by the agency that sends it.
    """

    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="templates",
        help_text=_("Empty: a shipped default, shared by every agency and read-only to them."),
    )
    name = models.CharField(max_length=200)
    legal_route = models.CharField(max_length=20, choices=LegalRoute.choices)
    locale = models.CharField(max_length=2, choices=Locale.choices)
    platform = models.ForeignKey(
        Platform,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="templates",
        help_text=_("Empty: the generic template for the route."),
    )
    version = models.PositiveIntegerField(default=1)
    subject = models.CharField(max_length=500)
    body = models.TextField()
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = NoticeTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice template")
        verbose_name_plural = _("notice templates")
        ordering = ["legal_route", "locale", "platform", "-version"]
        constraints = [
            # NULL (a default, a generic template) counts as one value: COALESCE to 0 so that
            # the constraint holds on SQLite as well as PostgreSQL.
            models.UniqueConstraint(
                Coalesce("agency", Value(0)),
                "legal_route",
                "locale",
                Coalesce("platform", Value(0)),
                "version",
                name="template_version_unique",
            ),
            # At most one active version per (agency, route, locale, platform): template choice
            # is then never ambiguous, whatever two editors do at once.
            models.UniqueConstraint(
                Coalesce("agency", Value(0)),
                "legal_route",
                "locale",
                Coalesce("platform", Value(0)),
                condition=Q(is_active=True),
                name="template_one_active",
            ),
        ]
        indexes = [
            # Template choice when drafting: the active ones for (route, locale), of the
            # notice's agency or shipped.
            models.Index(fields=["legal_route", "locale", "is_active"], name="template_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_default(self) -> bool:
        return self.agency_id is None


class NoticeQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> NoticeQuerySet:
        return self if user.is_superuser else self.filter(agency_id=user.agency_id)


class Notice(models.Model):
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="notices", verbose_name=_("agency")
    )
    artist = models.ForeignKey(
        Artist, verbose_name=_("artist"), on_delete=models.PROTECT, related_name="notices"
    )
    platform = models.ForeignKey(
        Platform, verbose_name=_("platform"), on_delete=models.PROTECT, related_name="notices"
    )
    legal_route = models.CharField(_("legal route"), max_length=20, choices=LegalRoute.choices)
    locale = models.CharField(_("language"), max_length=2, choices=Locale.choices, default=Locale.EN)
    template = models.ForeignKey(
        NoticeTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
        verbose_name=_("template"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drafted by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="notices_drafted",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices_reviewed",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reviewed at"))
    rejection_reason = models.TextField(blank=True, verbose_name=_("rejection reason"))
    revision_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="revisions"
    )

    # Frozen at submission: legal approves exactly these bytes, and they are sent.
    rendered_subject = models.CharField(max_length=500, blank=True, verbose_name=_("rendered subject"))
    rendered_html = models.TextField(blank=True)
    rendered_text = models.TextField(blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True, verbose_name=_("PDF SHA-256"))

    # Delivery.
    channel = models.CharField(
        max_length=10, choices=ChannelKind.choices, blank=True, verbose_name=_("channel")
    )
    recipient = models.CharField(max_length=500, blank=True, verbose_name=_("recipient"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("sent by"),
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    message_id = models.CharField(max_length=500, blank=True, verbose_name=_("Message-ID"))
    reference = models.CharField(_("platform reference"), max_length=200, blank=True)
    delivery_error = models.TextField(blank=True, verbose_name=_("delivery error"))
    delivery_attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("delivery attempts"))
    delivery_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the next delivery attempt is due (queued, or retried after a failure).
    delivery_next_at = models.DateTimeField(null=True, blank=True, editable=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("acknowledged at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    outcome = models.CharField(
        max_length=20, choices=NoticeOutcome.choices, blank=True, verbose_name=_("outcome")
    )
    # A host no registry platform covers: the discovered (or staff-given) contact it goes to,
    # in place of the platform's channel.
    contact = models.ForeignKey(
        AbuseContact,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
    )
    # The escalation ladder's step this notice is ("" for a first notice): its items may be
    # URLs already notified elsewhere and still live.
    ladder_rung = models.CharField(_("escalation step"), max_length=10, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Nobody approves a notice they drafted or submitted. (Who added items is known
            # from the events only, which a CHECK cannot read: notices.notice_contributors
            # enforces the rest.)
            models.CheckConstraint(
                name="notice_reviewer_not_author",
                condition=Q(reviewed_by__isnull=True) | ~Q(reviewed_by=F("created_by")),
            ),
            models.CheckConstraint(
                name="notice_reviewer_not_submitter",
                condition=Q(reviewed_by__isnull=True) | ~Q(reviewed_by=F("submitted_by")),
            ),
            # A sent notice has a sending time (the SLA clock starts there).
            models.CheckConstraint(
                name="notice_sent_has_time",
                condition=~Q(status__in=["sent", "acknowledged", "closed", "withdrawn"])
                | Q(sent_at__isnull=False),
            ),
            # One Message-ID per notice, stored before the first attempt and reused by every
            # retry, so that a recipient can tell a second copy from a second notice.
            models.CheckConstraint(
                name="notice_delivery_has_message_id",
                condition=~Q(status__in=["sending", "delivery_failed", "delivery_unknown"])
                | ~Q(message_id=""),
            ),
            models.CheckConstraint(
                name="notice_frozen_has_pdf_hash",
                condition=Q(status="draft") | Q(status="rejected") | ~Q(pdf_sha256=""),
            ),
        ]
        indexes = [
            # The approval queue: pending notices, oldest first.
            models.Index(fields=["status", "submitted_at"], name="notice_queue"),
            # An agency's notices by state (admin lists, dashboard).
            models.Index(fields=["agency", "status"], name="notice_agency_status"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.artist} → {self.platform} ({self.get_legal_route_display()})"

    @property
    def route_channel(self) -> RouteChannel | None:
        """Where notices of this route go: the discovered contact of an unlisted host, else the
        platform's channel for the route (the registry's channel per route)."""
        if self.contact_id is not None:
            return self.contact.channel(self.legal_route)
        return self.platform.channel_for(self.legal_route)

    @property
    def recipient_name(self) -> str:
        return self.contact.name if self.contact_id is not None else self.platform.name

    @property
    def deadline_basis(self) -> str:
        """Whether the deadline is the statute's, the platform's stated time, or an internal target."""
        return legal.deadline_basis(self.legal_route, self.platform.response_deadline_hours)


class NoticeItemQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> NoticeItemQuerySet:
        return self if user.is_superuser else self.filter(notice__agency_id=user.agency_id)


class NoticeItem(models.Model):
    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="items", verbose_name=_("notice")
    )
    url = models.ForeignKey(
        InfringingURL, on_delete=models.PROTECT, related_name="notice_items", verbose_name=_("URL")
    )

    objects = NoticeItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice item")
        verbose_name_plural = _("notice items")
        constraints = [models.UniqueConstraint(fields=["notice", "url"], name="notice_item_unique")]

    def __str__(self) -> str:
        return str(self.url)


class NoticeEventQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> NoticeEventQuerySet:
        return self if user.is_superuser else self.filter(notice__agency_id=user.agency_id)


class NoticeEvent(models.Model):
    """The audit trail: every transition of a notice, who made it and why."""

    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="events", verbose_name=_("notice")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    at = models.DateTimeField(default=timezone.now, verbose_name=_("at"))
    from_status = models.CharField(
        max_length=20, choices=NoticeStatus.choices, blank=True, verbose_name=_("from status")
    )
    to_status = models.CharField(max_length=20, choices=NoticeStatus.choices, verbose_name=_("to status"))
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    data = models.JSONField(default=dict, blank=True)

    objects = NoticeEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice event")
        verbose_name_plural = _("notice events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["notice", "at"], name="event_notice_time")]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class CounterNoticeQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> CounterNoticeQuerySet:
        return self if user.is_superuser else self.filter(notice__agency_id=user.agency_id)


class CounterNotice(models.Model):
    """A counter-notice or objection received against a sent notice.

    Where the route fixes a restore window (DMCA §512(g)(2)(C): 10 to 14 business days unless
    the agency files suit) it is kept here so that legal sees when; other routes have none
    (legal.ROUTE_CLOCKS says what an objection does on each).
    """

    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="counter_notices", verbose_name=_("notice")
    )
    received_at = models.DateTimeField(verbose_name=_("received at"))
    counter_party = models.CharField(max_length=300, blank=True, verbose_name=_("counter party"))
    summary = models.TextField(verbose_name=_("summary"))
    restore_earliest = models.DateField(null=True, blank=True, verbose_name=_("restore earliest"))
    restore_latest = models.DateField(null=True, blank=True, verbose_name=_("restore latest"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    objects = CounterNoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("counter-notice")
        verbose_name_plural = _("counter-notices")
        ordering = ["received_at"]

    def __str__(self) -> str:
        return f"counter-notice {self.received_at:%Y-%m-%d} on {self.notice_id}"


class JobQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> JobQuerySet:
        return self if user.is_superuser else self.filter(agency_id=user.agency_id)


class Job(models.Model):
    """Long work run in the background (a large CSV import, "recheck now" on many URLs).

    The admin shows where it stands; the worker updates `done` as it goes.
    """

    class Kind(models.TextChoices):
        IMPORT = "import", _("CSV import")
        RECHECK = "recheck", _("Recheck")
        SUBMIT = "submit", _("Notice submission")
        DOSSIER = "dossier", _("Evidence dossier")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="jobs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    # The work's input (CSV rows and options, or URL ids) and its result (an import report).
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Who runs it and until when: a worker renews its lease after every chunk it commits; a
    # lapsed lease means the worker died, and the minute tick resumes the job from `done`.
    queued_at = models.DateTimeField(default=timezone.now, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    run_token = models.CharField(max_length=32, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    log = models.TextField(_("what happened"), blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def percent(self) -> int:
        return (
            100 if self.state == self.State.DONE else int(self.done * 100 / self.total) if self.total else 0
        )


class APITokenQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> APITokenQuerySet:
        return self if user.is_superuser else self.filter(user__agency_id=user.agency_id)


class APIToken(models.Model):
    """An API key, stored only as its SHA-256: a database dump hands out no working key.

    The key itself is shown once at issue (takedown.tokens.token_issue). SHA-256 without a salt
    is enough here: keys are 256 random bits, so there is nothing to guess or precompute, and
    the digest doubles as the unique lookup index.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(
        _("key starts with"), max_length=8, help_text=_("Not secret: to tell keys apart.")
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = APITokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"


class SignInOutcome(models.TextChoices):
    SIGNED_IN = "signed_in", _("Signed in (password)")
    FAILED = "failed", _("Wrong user name or password")
    LOCKED_OUT = "locked_out", _("Locked out")
    VERIFIED = "verified", _("Second factor passed")
    SECOND_FACTOR_FAILED = "second_factor_failed", _("Second factor failed")
    ENROLLED = "enrolled", _("Second factor set up")


class SignInEventQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> SignInEventQuerySet:
        # A failure for an unknown user name has no agency: superusers only.
        return self if user.is_superuser else self.filter(agency_id=user.agency_id)


class SignInEvent(models.Model):
    """One sign-in attempt or step, for the managers' audit list.

    The agency is copied from the user at the time: a failure for an unknown user name belongs
    to no agency, and only superusers see it.
    """

    at = models.DateTimeField(_("time"), default=timezone.now)
    username = models.CharField(_("user name"), max_length=150)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, choices=SignInOutcome.choices)

    objects = SignInEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("sign-in event")
        verbose_name_plural = _("sign-in events")
        ordering = ["-at", "-pk"]
        indexes = [
            # A manager's audit list: one agency's events, newest first.
            models.Index(fields=["agency", "-at"], name="signin_agency_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.get_outcome_display()} {self.at:%Y-%m-%d %H:%M}"


class ErasureQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> ErasureQuerySet:
        return self if user.is_superuser else self.filter(agency_id=user.agency_id)


class Erasure(models.Model):
    """An artist's data erased at the artist's request (takedown.erasure): who, when and how
    much, never what. The artist's row is gone, or kept under a pseudonym while the notices sent
    for the artist must be kept; `finished_at` is set once nothing of the artist is left."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    # The erased artist's id, not a foreign key: the row goes when the last kept notice does.
    artist_ref = models.PositiveBigIntegerField(_("artist id"))
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("performed by")
    )
    # The account on the server that ran the command (the person above answers for it).
    operator = models.CharField(_("server account"), max_length=100, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)
    deleted = models.JSONField(_("deleted"), default=dict, help_text=_("Rows deleted, per kind."))
    kept = models.JSONField(
        _("kept"), default=dict, help_text=_("What the law requires to be kept: notice ids, until when, why.")
    )
    finished_at = models.DateTimeField(_("nothing left since"), null=True, blank=True)

    objects = ErasureQuerySet.as_manager()

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"erasure of artist {self.artist_ref} {self.at:%Y-%m-%d}"


class EscalationStepQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> EscalationStepQuerySet:
        return self if user.is_superuser else self.filter(url__artist__agency_id=user.agency_id)


class EscalationStep(models.Model):
    """One step up the ladder for a URL still live past its deadline: the notice drafted for
    legal review, or why legal skipped it. Its outcome is the notice's and the URL's."""

    class Rung(models.TextChoices):
        CDN = "cdn", _("CDN / reverse proxy")
        HOST = "host", _("Hosting provider")
        SITE = "site", _("Site operator (security.txt)")
        REGISTRAR = "registrar", _("Registrar")
        SEARCH = "search", _("Search-engine delisting")

    class State(models.TextChoices):
        DRAFTED = "drafted", _("drafted for review")
        SENT = "sent", _("sent")
        SKIPPED = "skipped", _("skipped")
        NO_RECIPIENT = "no_recipient", _("no recipient known")
        # Its notice was rejected: the step waits for the notice's revision (or a skip).
        REJECTED = "rejected", _("notice rejected, awaiting revision")
        # Its notice was cancelled before sending: the sweep drafts the step again.
        CANCELLED = "cancelled", _("notice cancelled, to be drafted again")
        # The URL is no longer live past a deadline (removed, withdrawn, dismissed): nothing to send.
        CLOSED = "closed", _("closed: the URL no longer needs it")

    url = models.ForeignKey(InfringingURL, on_delete=models.CASCADE, related_name="escalation_steps")
    rung = models.CharField(_("step"), max_length=10, choices=Rung.choices)
    state = models.CharField(_("state"), max_length=15, choices=State.choices)
    contact = models.ForeignKey(
        AbuseContact, null=True, blank=True, on_delete=models.PROTECT, related_name="escalation_steps"
    )
    platform = models.ForeignKey(
        Platform, null=True, blank=True, on_delete=models.PROTECT, related_name="escalation_steps"
    )
    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.SET_NULL, related_name="escalation_steps"
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("drafted at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = EscalationStepQuerySet.as_manager()

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["url", "created_at", "pk"]
        constraints = [
            # One step per rung per URL: the tick that drafts it twice gets an IntegrityError.
            models.UniqueConstraint(fields=["url", "rung"], name="escalation_step_once"),
            models.CheckConstraint(
                name="escalation_skip_has_reason", condition=~Q(state="skipped") | ~Q(reason="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rung_display()}: {self.get_state_display()}"

    @property
    def recipient(self) -> str:
        if self.contact_id:
            return self.contact.name
        return self.platform.name if self.platform_id else ""


class AccountQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> AccountQuerySet:
        return self if user.is_superuser else self.filter(agency_id=user.agency_id)

    def with_url_counts(self) -> AccountQuerySet:
        """Each account with how many of the agency's items it posted, for how many artists."""
        return self.annotate(
            url_count=models.Count("urls", filter=Q(urls__same_as__isnull=True), distinct=True),
            artist_count=models.Count("urls__artist", distinct=True),
        )


class Account(models.Model):
    """The account behind URLs (an X handle, a Telegram channel, a subreddit...), per agency.

    Found by the platform's extractor (takedown.probing.accounts) from the URL, or from the page
    title a check already recorded; never by fetching anything more.
    """

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="accounts")
    platform = models.ForeignKey(
        Platform, verbose_name=_("platform"), on_delete=models.PROTECT, related_name="accounts"
    )
    kind = models.CharField(_("kind"), max_length=20)
    handle = models.CharField(_("handle"), max_length=200)
    names_seen = models.JSONField(_("names seen"), default=list, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))

    objects = AccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["platform__name", "handle"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "platform", "kind", "handle"], name="account_unique")
        ]

    def __str__(self) -> str:
        return f"{self.platform.slug}:{self.kind}:{self.handle}"


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> CaseQuerySet:
        return self if user.is_superuser else self.filter(agency_id=user.agency_id)


class Case(models.Model):
    """URLs grouped for legal action (by account, channel or by hand), for one or more artists.

    Staff propose a case; a legal reviewer takes it on and owns it from then on.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(_("title"), max_length=300)
    status = models.CharField(
        _("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.PROPOSED
    )
    artists = models.ManyToManyField(Artist, verbose_name=_("artists"), related_name="cases", blank=True)
    urls = models.ManyToManyField(
        InfringingURL, verbose_name=_("URLs"), through="CaseURL", related_name="cases", blank=True
    )
    legal_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible legal reviewer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases_owned",
    )
    notes = models.TextField(_("notes"), blank=True)
    law_firm_reference = models.CharField(_("law firm's reference"), max_length=200, blank=True)
    police_reference = models.CharField(_("police reference"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        permissions = [("export_dossier", "Can export a case's evidence dossier")]
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="case_owned_unless_proposed",
                condition=Q(status=CaseStatus.PROPOSED) | Q(legal_owner__isnull=False),
            ),
        ]
        indexes = [
            # An agency's cases by state (admin list, API list).
            models.Index(fields=["agency", "status"], name="case_agency_status"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


class CaseURL(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_urls")
    url = models.ForeignKey(InfringingURL, on_delete=models.PROTECT, related_name="case_links")
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("case URL")
        verbose_name_plural = _("case URLs")
        constraints = [models.UniqueConstraint(fields=["case", "url"], name="case_url_unique")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.url_id}"


class CaseEventQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> CaseEventQuerySet:
        return self if user.is_superuser else self.filter(case__agency_id=user.agency_id)


class CaseEvent(models.Model):
    """A line of a case's own timeline (proposed, taken on, URLs added, references, closed...)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=30)
    detail = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_time")]

    def __str__(self) -> str:
        return self.kind


class ChainHead(models.Model):
    """The newest entry of an agency's hash chain: the row every append locks first."""

    agency = models.OneToOneField(Agency, primary_key=True, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField(default=0)
    head_sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.agency_id}@{self.seq}"


class ChainEntryQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> ChainEntryQuerySet:
        return self if user.is_superuser else self.filter(agency_id=user.agency_id)


class ChainEntry(models.Model):
    """One link of an agency's tamper-evident record (takedown.chain)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=20, choices=ChainKind.choices)
    object_id = models.PositiveBigIntegerField()
    at = models.DateTimeField(default=timezone.now)
    content = models.TextField()
    content_sha256 = models.CharField(max_length=64)
    prev_sha256 = models.CharField(max_length=64)
    entry_sha256 = models.CharField(max_length=64)

    objects = ChainEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("chain entry")
        verbose_name_plural = _("chain entries")
        ordering = ["agency", "seq"]
        constraints = [models.UniqueConstraint(fields=["agency", "seq"], name="chain_entry_seq")]
        indexes = [
            # A dossier's manifest: the entries that cover a case's checks and events.
            models.Index(fields=["kind", "object_id"], name="chain_entry_object"),
        ]

    def __str__(self) -> str:
        return f"{self.seq} {self.kind}:{self.object_id}"


class ChainAnchorQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> ChainAnchorQuerySet:
        return self if user.is_superuser else self.filter(agency_id=user.agency_id)


class ChainAnchor(models.Model):
    """The chain's head as it stood on a day: what an agency sends its law firm as an outside anchor."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    seq = models.PositiveBigIntegerField(_("entries"))
    head_sha256 = models.CharField(_("head SHA-256"), max_length=64)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    objects = ChainAnchorQuerySet.as_manager()

    class Meta:
        verbose_name = _("chain head of the day")
        verbose_name_plural = _("chain heads of the day")
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["agency", "day"], name="chain_anchor_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.head_sha256[:12]}"


def scope(qs: models.QuerySet, user: User) -> models.QuerySet:
    """`qs` cut down to what `user` may see: the one scoping rule that every admin page,
    filter, select and autocomplete goes through. A model without `visible_to` is refused
    rather than shown whole, so a new model cannot leak by being forgotten."""
    if not hasattr(qs, "visible_to"):
        raise TypeError(f"{qs.model.__name__} has no visible_to(user): say how it is scoped to an agency.")
    return qs.visible_to(user)


def visible(model: type[models.Model], user: User) -> models.QuerySet:
    return scope(model._default_manager.all(), user)
