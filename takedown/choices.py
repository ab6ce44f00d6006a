"""Choice vocabularies shared by the models, services, API and templates."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    STAFF = "staff", _("Staff")
    LEGAL = "legal", _("Legal reviewer")
    MANAGER = "manager", _("Manager")
    API = "api", _("API client")


class Category(models.TextChoices):
    SYNTHETIC_SEXUAL = "synthetic_sexual", _("Synthetic sexual imagery (deepfake)")
    REAL_INTIMATE = "real_intimate", _("Real intimate imagery")
    IMPERSONATION = "impersonation", _("Impersonation")
    COPYRIGHT = "copyright", _("Copyright")
    PRIVACY = "privacy", _("Privacy / harassment")


class LegalRoute(models.TextChoices):
    DMCA = "dmca", _("DMCA 17 U.S.C. §512(c)(3)")
    TAKE_IT_DOWN = "take_it_down", _("US TAKE IT DOWN Act")
    DSA = "dsa", _("EU DSA Art. 16")
    KR_TBA = "kr_tba_22_5", _("Korea Telecommunications Business Act Art. 22-5")
    KR_NETWORK = "kr_network_44_2", _("Korea Network Act Art. 44-2")
    KR_COPYRIGHT = "kr_copyright_103", _("Korea Copyright Act Art. 103")
    PLATFORM_POLICY = "platform_policy", _("Platform policy (privacy / NCII / likeness)")


class URLStatus(models.TextChoices):
    OPEN = "open", _("Open")  # known, not yet in a sent notice
    NOTIFIED = "notified", _("Notified")  # in a sent notice, still live
    REMOVED = "removed", _("Removed")
    LEGALLY_BLOCKED = "legally_blocked", _("Legally blocked")
    SOFT_REMOVED = "soft_removed", _("Soft-removed")
    RESTRICTED = "restricted", _("Restricted")
    DISMISSED = "dismissed", _("Dismissed")


class Source(models.TextChoices):
    ADMIN = "admin", _("Admin")
    CSV = "csv", _("CSV upload")
    API = "api", _("API")
    TIP = "tip", _("Tip")
    CLI = "cli", _("Command line")


class Verdict(models.TextChoices):
    LIVE = "live", _("Live")
    REMOVED = "removed", _("Removed")
    LEGALLY_BLOCKED = "legally_blocked", _("Legally blocked")
    SOFT_REMOVED = "soft_removed", _("Soft-removed")
    RESTRICTED = "restricted", _("Restricted")
    INCONCLUSIVE = "inconclusive", _("Inconclusive")


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBFORM = "webform", _("Web form")
    NONE = "none", _("No known channel")


class Locale(models.TextChoices):
    KO = "ko", _("Korean")
    EN = "en", _("English")


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    SENDING = "sending", _("Sending")  # email queued or being delivered
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")  # nothing left; retried
    DELIVERY_UNKNOWN = "delivery_unknown", _("Delivery unknown")  # may have left: a person decides
    REJECTED = "rejected", _("Rejected")
    SENT = "sent", _("Sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CANCELLED = "cancelled", _("Cancelled")  # approved but never sent, and it will not be


class NoticeOutcome(models.TextChoices):
    REMOVED = "removed", _("Removed")
    PARTIALLY_REMOVED = "partially_removed", _("Partially removed")
    REFUSED = "refused", _("Refused")


class CaseStatus(models.TextChoices):
    PROPOSED = (
        "proposed",
        pgettext_lazy("case", "Proposed"),
    )  # staff grouped the URLs; legal has not taken it on
    OPEN = "open", pgettext_lazy("case", "Open")  # a legal reviewer owns it
    CLOSED = "closed", pgettext_lazy("case", "Closed")


class ChainKind(models.TextChoices):
    CHECK = "check", _("URL check")
    NOTICE_EVENT = "notice_event", _("Notice event")
    CASE_EVENT = "case_event", _("Case event")
    DELETION = "deletion", _("Deletion (retention or erasure)")
