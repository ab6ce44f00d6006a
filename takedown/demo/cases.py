"""The demo's story, as data: a fictional agency, its artists and users, and the cases of
eight weeks of work. Everything here is invented: no real person, no real content, no image.

A case is one line of work: URLs found, and what people do about them, step by step. Its
routes are truthful per item: TAKE IT DOWN and KR TBA Art. 22-5 notices carry intimate or
synthetic sexual imagery only, DMCA only copies of a work the agency holds rights to (each
item links its rights record), KR Network Act Art. 44-2 privacy and impersonation, platform
policy anything, and each case goes to a channel the platform registry has for its route.

What each notice asserts rests on a record, as for real work: every person depicted has
authorized the agency (an Authorization on file before the story starts, covering the routes
of their cases, with its documents for the channels that ask for them); a group's items name
the member depicted; an authentic intimate item carries its facts for the notice.
"""

from __future__ import annotations

from dataclasses import dataclass

from takedown.choices import Category, LegalRoute, NoticeOutcome, Role, Source, Verdict
from takedown.models import RightsRecord

# The works the agency holds rights to (rights records), by title.
MOONRISE_PHOTOS = "'Moonrise' official concept photo set (2026)"
MOONRISE_VIDEO = "'Moonrise' music video"
DAON_PHOTO_BOOK = "Daon Yoon 2026 season's greetings photo book"

AGENCY = {
    "slug": "starlight",
    "name": "Starlight Entertainment (demo)",
    "name_ko": "스타라이트 엔터테인먼트",
    "address": "123 Example-ro, Gangnam-gu, Seoul 06000, Republic of Korea",
    "email": "legal@starlight.example",
    "phone": "+82 2-0000-0000",
    "website": "https://starlight.example",
    "signatory_name": "Jiyoon Han",
    "signatory_title": "Head of Legal",
    "signatory_name_ko": "한지윤",
    "signatory_title_ko": "법무팀장",
    "dsa_member_state": "FR",
    "time_zone": "Asia/Seoul",
}

ARTISTS = [
    {
        "slug": "luna-kang",
        "name": "Luna Kang",
        "name_ko": "강루나",
        "aliases": ["LUNA", "루나"],
        "official_accounts": ["https://x.com/luna_official_demo", "luna-kang.example.net"],
        "works": [
            (MOONRISE_PHOTOS, RightsRecord.Kind.PHOTO),
            (MOONRISE_VIDEO, RightsRecord.Kind.VIDEO),
        ],
    },
    {
        "slug": "daon-yoon",
        "name": "Daon Yoon",
        "name_ko": "윤다온",
        "aliases": ["DAON"],
        "official_accounts": ["https://www.instagram.com/daon_official_demo/"],
        "works": [(DAON_PHOTO_BOOK, RightsRecord.Kind.PHOTO)],
    },
    {
        "slug": "orbit-7",
        "name": "ORBIT-7",
        "name_ko": "오르빗세븐",
        "is_group": True,
        "aliases": ["ORBIT7", "오빗"],
        "official_accounts": ["https://www.youtube.com/@orbit7_official_demo"],
        "works": [],
    },
]

# The members of ORBIT-7 whom the demo's items depict, as (name, Korean name): a group is not
# a person, so each of them authorizes the agency in their own name.
RIAN, SEJIN, TAEO = "Rian Choi", "Sejin Moon", "Taeo Bae"
MEMBERS = {"orbit-7": [(RIAN, "최리안"), (SEJIN, "문세진"), (TAEO, "배태오")]}

# Each person's authorization of the agency: in force from this many days before the story
# starts, for the routes their artist's cases take.
AUTHORIZED_DAYS_BEFORE = 120
AUTHORIZATION_SCOPE = (
    "Requests to remove content that copies the agency's works, impersonates the person or shows "
    "them without consent, and the correspondence that follows (demo data: invented)."
)

USERS = [
    ("demo-staff", Role.STAFF, True, "Minseo", "Cho"),
    ("demo-legal", Role.LEGAL, True, "Jiyoon", "Han"),
    ("demo-manager", Role.MANAGER, True, "Hyunwoo", "Lim"),
    ("demo-api", Role.API, False, "Crawler", "Bot"),
]

# Where the demo's email notices are delivered: Django's in-memory backend, under an address
# of the reserved .example domain, never a platform's.
DEMO_OUTBOX = "demo-outbox@starlight.example"

# The agency and its users exist from this long (and a day) before the story ends; every step of
# the cases (days before the end) must come after that.
STORY_WEEKS = 8

# -- the story, as data -------------------------------------------------------------------------

DEEPFAKE, INTIMATE, IMPERSONATION, COPYRIGHT, PRIVACY = (
    Category.SYNTHETIC_SEXUAL,
    Category.REAL_INTIMATE,
    Category.IMPERSONATION,
    Category.COPYRIGHT,
    Category.PRIVACY,
)
GONE, HIDDEN = Verdict.REMOVED, Verdict.SOFT_REMOVED


@dataclass(frozen=True)
class Link:
    """One demo URL, and when (hours after its notice is sent) the platform takes it down."""

    url: str
    category: str
    gone_after: float | None = None
    gone_as: str = GONE
    note: str = "demo data"
    # The title of the rights record a copyright item copies.
    work: str = ""
    # For a group: the member the item depicts (their authorization's person_name).
    member: str = ""
    # An authentic intimate item's facts for the notice: how it is known to have been published
    # without consent.
    facts: str = ""


@dataclass(frozen=True)
class Case:
    """One line of work: URLs found, and what people do about them, step by step.

    A step is (days before the story's end, local "HH:MM", action, arguments); the actions are
    the `Story.do_<action>` methods. Each case drafts at most one notice (and its revision).
    """

    name: str
    artist: str
    route: str
    links: tuple[Link, ...]
    steps: tuple[tuple, ...]
    source: str = Source.CSV


def _youtube(n: str) -> str:
    return f"https://www.youtube.com/watch?v={n}"


CASES: tuple[Case, ...] = (
    Case(
        "orbit-youtube",
        "orbit-7",
        LegalRoute.PLATFORM_POLICY,
        (
            Link(_youtube("Demo0rb1t01"), IMPERSONATION, 20, member=RIAN),
            Link("https://youtu.be/Demo0rb1t02?si=demoShareToken", IMPERSONATION, 26, member=RIAN),
            Link("https://www.youtube.com/shorts/Demo0rb1t03", IMPERSONATION, 30, member=SEJIN),
            Link("https://m.youtube.com/watch?v=Demo0rb1t04", IMPERSONATION, 50, member=TAEO),
        ),
        (
            (52, "10:00", "import", {}),
            (52, "10:30", "prepare", {}),
            (52, "11:00", "submit", {}),
            (51, "09:40", "approve", {}),
            (51, "10:15", "send", {}),
            (45, "14:00", "close", {"outcome": NoticeOutcome.REMOVED, "reason": "All four videos are gone."}),
        ),
    ),
    Case(
        "luna-cloudflare",
        "luna-kang",
        LegalRoute.DMCA,
        (
            Link("https://moonrise-mirror-demo.pages.dev/gallery/1", COPYRIGHT, 30, work=MOONRISE_PHOTOS),
            Link("https://moonrise-mirror-demo.pages.dev/gallery/2", COPYRIGHT, 30, work=MOONRISE_PHOTOS),
            Link("https://moonrise-mirror-demo.pages.dev/gallery/3", COPYRIGHT, 54, work=MOONRISE_PHOTOS),
        ),
        (
            (48, "09:30", "import", {}),
            (48, "10:00", "prepare", {}),
            (48, "10:20", "submit", {}),
            (47, "11:00", "approve", {}),
            (47, "11:30", "send", {}),
            (
                40,
                "10:00",
                "close",
                {"outcome": NoticeOutcome.REMOVED, "reason": "The host took the gallery down."},
            ),
            (
                9,
                "15:00",
                "counter",
                {
                    "summary": "The site's operator says the gallery holds fan edits, not copies of the "
                    "'Moonrise' concept photos, and asks the host to restore it.",
                    "counter_party": "Operator of moonrise-mirror-demo.pages.dev (invented)",
                },
            ),
        ),
    ),
    Case(
        "luna-instagram",
        "luna-kang",
        LegalRoute.PLATFORM_POLICY,
        (
            Link("https://www.instagram.com/p/DemoLuna001/", IMPERSONATION, 40),
            Link("https://www.instagram.com/reel/DemoLuna002/?igsh=demoShare", IMPERSONATION, 70),
            Link("https://www.instagram.com/p/DemoLuna003/", IMPERSONATION),
            Link("https://www.instagram.com/p/DemoLuna004/", IMPERSONATION),
        ),
        (
            (44, "14:00", "import", {}),
            (44, "15:00", "prepare", {}),
            (44, "15:30", "submit", {}),
            (43, "10:00", "approve", {}),
            (43, "10:30", "send", {}),
            (
                33,
                "11:00",
                "close",
                {
                    "outcome": NoticeOutcome.PARTIALLY_REMOVED,
                    "reason": "Instagram removed two posts and found no violation in the other two.",
                },
            ),
        ),
        source=Source.API,
    ),
    Case(
        "daon-facebook",
        "daon-yoon",
        LegalRoute.PLATFORM_POLICY,
        (
            Link("https://www.facebook.com/daonyoon.demo.page/posts/1000000001", IMPERSONATION),
            Link("https://www.facebook.com/daonyoon.demo.page/posts/1000000002", IMPERSONATION),
        ),
        (
            (38, "11:00", "import", {}),
            (38, "11:30", "prepare", {}),
            (38, "12:00", "submit", {}),
            (37, "10:00", "approve", {}),
            (37, "10:30", "send", {}),
            (
                30,
                "16:00",
                "close",
                {
                    "outcome": NoticeOutcome.REFUSED,
                    "reason": "Facebook found no impersonation: the page calls itself a fan page. "
                    "Next: a request under the Network Act, Art. 44-2.",
                },
            ),
        ),
    ),
    Case(
        "daon-naver-deepfake",
        "daon-yoon",
        LegalRoute.KR_TBA,
        (
            Link("https://blog.naver.com/deepfake_demo_01/223100000012", DEEPFAKE, 20),
            Link("https://blog.naver.com/deepfake_demo_02/223100000007", DEEPFAKE, 22, HIDDEN),
            Link("https://blog.naver.com/deepfake_demo_03/223100000031", DEEPFAKE, 30),
        ),
        (
            (30, "09:00", "import", {}),
            (30, "09:30", "prepare", {}),
            (30, "09:40", "language", {"locale": "en"}),
            (30, "10:00", "submit", {}),
            (
                29,
                "10:00",
                "reject",
                {
                    "reason": "Naver's Art. 22-5 desk works in Korean: an English request is queued "
                    "as a foreign one. Send it in Korean."
                },
            ),
            (29, "11:00", "revise", {}),
            (29, "11:05", "language", {"locale": "ko"}),
            (29, "11:20", "submit", {}),
            (28, "09:30", "approve", {}),
            (28, "10:00", "send", {}),
            (27, "14:00", "acknowledge", {}),
            (
                25,
                "10:00",
                "close",
                {
                    "outcome": NoticeOutcome.REMOVED,
                    "reason": "Naver deleted two posts and hid the third under a temporary measure.",
                },
            ),
        ),
        source=Source.API,
    ),
    Case(
        "daon-youtube-dmca",
        "daon-yoon",
        LegalRoute.DMCA,
        (
            Link(
                _youtube("DemoDaon001"), COPYRIGHT, note="demo data: photo book preview", work=DAON_PHOTO_BOOK
            ),
            Link(
                _youtube("DemoDaon002"), COPYRIGHT, note="demo data: photo book preview", work=DAON_PHOTO_BOOK
            ),
        ),
        (
            (24, "10:00", "import", {}),
            (24, "10:30", "prepare", {}),
            (24, "11:00", "submit", {}),
            (23, "10:00", "approve", {}),
            (23, "10:30", "send", {}),
            (
                21,
                "15:00",
                "withdraw",
                {
                    "reason": "The uploader holds the agency's licence for these previews "
                    "(confirmed by the distribution team)."
                },
            ),
            (21, "15:10", "dismiss", {}),
        ),
    ),
    Case(
        "open-no-channel",
        "daon-yoon",
        LegalRoute.KR_NETWORK,
        (
            Link("https://gall.dcinside.com/board/view/?id=demo&no=1001", PRIVACY),
            Link("https://gall.dcinside.com/board/view/?id=demo&no=1002", PRIVACY),
        ),
        ((15, "10:00", "import", {"refused": True}),),
    ),
    Case(
        "open-no-platform",
        "luna-kang",
        LegalRoute.TAKE_IT_DOWN,
        (
            Link("https://clips.example.net/v/Demo01?utm_source=share", DEEPFAKE),
            Link("https://clips.example.net/v/Demo02", DEEPFAKE),
            Link("https://www.xvideos.com/video.demo0001/invented", DEEPFAKE),
        ),
        ((20, "09:00", "import", {}),),
        source=Source.API,
    ),
    Case(
        "luna-x",
        "luna-kang",
        LegalRoute.TAKE_IT_DOWN,
        (
            Link("https://x.com/deepfake_demo_01/status/1860000000000000001", DEEPFAKE, 9),
            Link("https://twitter.com/deepfake_demo_02/status/1860000000000000002?s=20", DEEPFAKE, 20),
            Link("https://x.com/deepfake_demo_03/status/1860000000000000003", DEEPFAKE, 26),
            Link(
                "https://x.com/deepfake_demo_01/status/1860000000000000004",
                INTIMATE,
                30,
                facts="Demo data (invented): a private photo Luna Kang shared with one person in "
                "2024, posted by this account without her consent; she has never agreed to its "
                "publication.",
            ),
            Link("https://x.com/deepfake_demo_04/status/1860000000000000005", DEEPFAKE),
            Link("https://x.com/deepfake_demo_05/status/1860000000000000006", DEEPFAKE),
        ),
        (
            (12, "08:00", "import", {}),
            (11, "10:00", "prepare", {}),
            (11, "10:30", "submit", {}),
            (11, "14:00", "approve", {}),
            (11, "15:00", "send", {}),
        ),
        source=Source.API,
    ),
    Case(
        "orbit-telegram",
        "orbit-7",
        LegalRoute.PLATFORM_POLICY,
        (
            Link("https://t.me/deepfake_demo_channel/101", DEEPFAKE, 60, member=SEJIN),
            Link("https://t.me/deepfake_demo_channel/102", DEEPFAKE, member=SEJIN),
            Link("https://t.me/deepfake_demo_channel/103", DEEPFAKE, member=TAEO),
            Link("https://t.me/deepfake_demo_channel/104", DEEPFAKE, member=RIAN),
        ),
        (
            (9, "11:00", "import", {}),
            (8, "10:00", "prepare", {}),
            (8, "10:30", "submit", {}),
            (7, "09:30", "approve", {}),
            (7, "10:00", "send", {}),
        ),
    ),
    Case(
        "daon-naver",
        "daon-yoon",
        LegalRoute.KR_NETWORK,
        (
            Link("https://blog.naver.com/demo_blogger1/223000000001", PRIVACY, 18, HIDDEN),
            Link("https://m.blog.naver.com/demo_blogger1/223000000002", PRIVACY, 18, HIDDEN),
            Link("https://blog.naver.com/demo_blogger2/223000000003", PRIVACY),
        ),
        (
            (7, "16:00", "import", {}),
            (6, "10:00", "prepare", {}),
            (6, "10:30", "submit", {}),
            (5, "10:00", "approve", {}),
            (5, "11:00", "send", {}),
            (4, "09:30", "acknowledge", {}),
        ),
    ),
    Case(
        "luna-youtube-dmca",
        "luna-kang",
        LegalRoute.DMCA,
        (
            Link(
                _youtube("DemoLunaMV1"),
                COPYRIGHT,
                note="demo data: re-upload of the 'Moonrise' music video",
                work=MOONRISE_VIDEO,
            ),
            Link(
                _youtube("DemoLunaMV2"),
                COPYRIGHT,
                note="demo data: re-upload of the 'Moonrise' music video",
                work=MOONRISE_VIDEO,
            ),
        ),
        (
            (3, "10:00", "import", {}),
            (2, "10:00", "prepare", {}),
            (2, "11:00", "submit", {}),
            (1, "10:00", "approve", {}),
        ),
    ),
    Case(
        "daon-instagram",
        "daon-yoon",
        LegalRoute.PLATFORM_POLICY,
        (
            Link("https://www.instagram.com/p/DemoDaon01/", IMPERSONATION),
            Link("https://www.instagram.com/p/DemoDaon02/", IMPERSONATION),
            Link("https://www.instagram.com/p/DemoDaon03/", PRIVACY),
        ),
        (
            (3, "15:00", "import", {}),
            (2, "14:00", "prepare", {}),
            (1, "15:00", "submit", {}),
        ),
    ),
    Case(
        "luna-pornhub",
        "luna-kang",
        LegalRoute.PLATFORM_POLICY,
        (
            Link("https://www.pornhub.com/view_video.php?viewkey=demo000000001", DEEPFAKE),
            Link("https://www.pornhub.com/view_video.php?viewkey=demo000000002", DEEPFAKE),
            Link("https://www.pornhub.com/view_video.php?viewkey=demo000000003", DEEPFAKE),
        ),
        (
            (2, "08:00", "import", {}),
            (1, "16:00", "prepare", {}),
            (1, "17:00", "submit", {}),
        ),
        source=Source.API,
    ),
    Case(
        "orbit-tiktok",
        "orbit-7",
        LegalRoute.PLATFORM_POLICY,
        (
            Link(
                "https://www.tiktok.com/@orbit7_fake_demo/video/7400000000000000001",
                IMPERSONATION,
                member=TAEO,
            ),
            Link(
                "https://www.tiktok.com/@orbit7_fake_demo/video/7400000000000000002",
                IMPERSONATION,
                member=TAEO,
            ),
            Link(
                "https://www.tiktok.com/@orbit7_fake_demo/video/7400000000000000003",
                IMPERSONATION,
                member=RIAN,
            ),
        ),
        (
            (1, "11:00", "import", {}),
            (1, "16:30", "prepare", {}),
        ),
    ),
    Case(
        "open-to-triage",
        "orbit-7",
        LegalRoute.PLATFORM_POLICY,
        (
            Link(_youtube("Demo0rb1t05"), IMPERSONATION, member=SEJIN),
            Link("https://www.threads.net/@orbit7_fake_demo/post/DemoPost1", IMPERSONATION, member=RIAN),
        ),
        ((1, "09:00", "import", {}),),
    ),
)

# Two rows the intake refuses, as a reviewer would see in a real upload.
REFUSED_ROWS = [
    {"artist": "luna-kang", "url": "https://x.com/luna_official_demo/status/1", "category": "impersonation"},
    {"artist": "luna-kang", "url": "http://192.168.0.10/admin", "category": "impersonation"},
]
