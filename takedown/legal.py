"""The law as data: which items a route may carry, what its notice must contain, what it
may say about each item, and the route's clock. Every rule names its legal source.

Four tables, each read by drafting, the pre-send checks and the rendering pipeline:

- `ROUTE_RULES`: which categories of item a route may carry, whether each item must link the
  work it copies, and the provision that decides it (DESIGN.md, "Which items a route may
  carry"). `default_route()` picks a route from a platform and a category, `may_carry()`
  says whether staff may put a category on a route at all.
- `ROUTE_REQUIREMENTS`: the elements a notice must contain (`Requirement`). An element is
  proved by context values (`context_keys`: a signatory, the agency's email, every URL),
  by phrases in the rendered text (`markers`, per locale: good faith, penalty of perjury,
  소명…), and, for the statutory elements that concern each item, by values and phrases in
  that item's own part of the text (`item_keys`, `item_markers`): a statement made once as
  boilerplate does not prove it for every item.
- Grounds (`item_ground()`): the provision each item's statement rests on, per route and
  category: the Member State's law for DSA, the Sexual Crimes Act article for Art. 22-5, the
  right infringed for Art. 44-2, the policy for platform-policy notices.
- `ROUTE_CLOCKS`: what the statute says about the platform's time to act, the internal
  targets where it sets no number (labelled as such), counter-notices and restore windows.

`RESERVED` lists statements a notice may make only when an item supports them (an offence
for an item of that category, a copyright for an item linking a work, an evidence hash for
an item checked conclusively); `unfounded_statements()` finds them in a rendering.

Matching ignores case and runs of whitespace, so line wrapping in a template does not
matter. Context key paths are dotted; `items[].url` means "the list `items` is not empty
and every element has a non-empty `url`". Plain data only: no database, no settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from takedown.choices import Category, LegalRoute

ALL_CATEGORIES = frozenset(Category.values)
SEXUAL = frozenset({Category.SYNTHETIC_SEXUAL.value, Category.REAL_INTIMATE.value})
KOREAN_ROUTES = frozenset(
    {LegalRoute.KR_TBA.value, LegalRoute.KR_NETWORK.value, LegalRoute.KR_COPYRIGHT.value}
)
# Routes on which every item is about a copied work, never about the person depicted.
WORK_ROUTES = frozenset({LegalRoute.DMCA.value, LegalRoute.KR_COPYRIGHT.value})


# -- which items a route may carry -------------------------------------------------------


@dataclass(frozen=True)
class RouteRule:
    carries: frozenset[str]
    # What the notice may truthfully say about each item.
    about: str
    # The provision that decides what the route carries, and where to read it.
    source: str
    source_url: str
    # Every item must link the work it copies (a rights record naming its owner).
    needs_work: bool = False


ROUTE_RULES: dict[str, RouteRule] = {
    LegalRoute.DMCA.value: RouteRule(
        carries=ALL_CATEGORIES,
        about="the copying of the work the item links to; never the depicted person's consent "
        "or sexual content (a deepfake built from an agency-owned photo qualifies for that reason only)",
        source="17 U.S.C. §512(c)(3)(A)(ii)–(iii): the copyrighted work, and the material that infringes it",
        source_url="https://www.law.cornell.edu/uscode/text/17/512",
        needs_work=True,
    ),
    LegalRoute.KR_COPYRIGHT.value: RouteRule(
        carries=ALL_CATEGORIES,
        about="the reproduction and transmission of the work the item links to (복제·전송)",
        source="저작권법 제103조 제1항: 권리주장자가 권리 침해 사실을 소명하여 복제·전송의 중단을 요구",
        source_url="https://www.law.go.kr/법령/저작권법/제103조",
        needs_work=True,
    ),
    LegalRoute.TAKE_IT_DOWN.value: RouteRule(
        carries=SEXUAL,
        about="an intimate visual depiction of an identifiable individual (authentic, or a digital "
        "forgery) published without the individual's consent",
        source="47 U.S.C. §223a(a) (TAKE IT DOWN Act §3); 'intimate visual depiction' as in "
        "15 U.S.C. §6851, 'digital forgery' as in 47 U.S.C. §223(h)(1)",
        source_url="https://www.congress.gov/bill/119th-congress/senate-bill/146/text",
    ),
    LegalRoute.DSA.value: RouteRule(
        carries=ALL_CATEGORIES,
        about="each item's legal ground: the provision of the named Member State's law it breaks",
        source="Regulation (EU) 2022/2065 Art. 3(h) (illegal under Union law or the law of any "
        "Member State) and Art. 16(2)(a)",
        source_url="https://eur-lex.europa.eu/eli/reg/2022/2065/oj",
    ),
    LegalRoute.KR_TBA.value: RouteRule(
        carries=SEXUAL,
        about="불법촬영물등: 성폭력처벌법 제14조 촬영물(real_intimate) or 제14조의2 허위영상물(synthetic_sexual)",
        source="전기통신사업법 제22조의5 제1항 제1호·제2호",
        source_url="https://www.law.go.kr/법령/전기통신사업법/제22조의5",
    ),
    LegalRoute.KR_NETWORK.value: RouteRule(
        carries=frozenset(
            {
                Category.PRIVACY.value,
                Category.IMPERSONATION.value,
                Category.SYNTHETIC_SEXUAL.value,
                Category.REAL_INTIMATE.value,
            }
        ),
        about="the personality right infringed (사생활, 명예, 초상·성명); copyright goes to 저작권법 제103조",
        source="정보통신망법 제44조의2 제1항: 사생활 침해 또는 명예훼손 등 타인의 권리가 침해된 경우",
        source_url="https://www.law.go.kr/법령/정보통신망이용촉진및정보보호등에관한법률/제44조의2",
    ),
    LegalRoute.PLATFORM_POLICY.value: RouteRule(
        carries=ALL_CATEGORIES,
        about="the platform policy the item breaks, and nothing more",
        source="the platform's own terms and policies (no statute)",
        source_url="",
    ),
}

# Per category, the routes an item defaults to, strongest first. The platform's own default
# route wins when it is one of them (not the generic policy route) and the platform has a
# channel for it. DSA is never a default: it asserts illegality under a Member State's law,
# which staff choose deliberately. A work route is a default for copyright items only.
CATEGORY_ROUTES: dict[str, tuple[str, ...]] = {
    Category.SYNTHETIC_SEXUAL.value: (
        LegalRoute.TAKE_IT_DOWN.value,
        LegalRoute.KR_TBA.value,
        LegalRoute.KR_NETWORK.value,
        LegalRoute.PLATFORM_POLICY.value,
    ),
    Category.REAL_INTIMATE.value: (
        LegalRoute.TAKE_IT_DOWN.value,
        LegalRoute.KR_TBA.value,
        LegalRoute.KR_NETWORK.value,
        LegalRoute.PLATFORM_POLICY.value,
    ),
    Category.IMPERSONATION.value: (LegalRoute.KR_NETWORK.value, LegalRoute.PLATFORM_POLICY.value),
    Category.PRIVACY.value: (LegalRoute.KR_NETWORK.value, LegalRoute.PLATFORM_POLICY.value),
    Category.COPYRIGHT.value: (
        LegalRoute.DMCA.value,
        LegalRoute.KR_COPYRIGHT.value,
        LegalRoute.PLATFORM_POLICY.value,
    ),
}


def route_rule(route: str) -> RouteRule:
    try:
        return ROUTE_RULES[str(route)]
    except KeyError:
        raise ValueError(f"unknown legal route {route!r}") from None


def may_carry(route: str, category: str) -> bool:
    """May an item of `category` go out on `route` at all (staff's override included)?"""
    rule = ROUTE_RULES.get(str(route))
    return rule is not None and str(category) in rule.carries


def carry_refusal(route: str, category: str) -> str:
    """Why `route` cannot carry `category`, naming what it carries and the provision."""
    rule = route_rule(route)
    carried = ", ".join(sorted(rule.carries))
    return (
        f"The {LegalRoute(route).label} route cannot carry {category} items: it carries {carried} "
        f"({rule.source})."
    )


def default_route(platform: Any, category: str) -> str:
    """The route an item of `category` on `platform` takes when staff do not choose one.

    `platform` is a Platform (its `default_route` and `channel_for(route)`) or None for a host
    no platform matches. The platform's default wins when it is a statutory route the
    category may take and the platform has a channel for it; otherwise the category's
    routes in order, the first the platform has a channel for; otherwise the platform's
    policy route, which carries anything.
    """
    preferred = CATEGORY_ROUTES.get(str(category), (LegalRoute.PLATFORM_POLICY.value,))
    if platform is None:
        return LegalRoute.PLATFORM_POLICY.value
    own = str(platform.default_route or "")
    if own in preferred[:-1] and platform.channel_for(own) is not None:
        return own
    for route in preferred:
        if platform.channel_for(route) is not None:
            return route
    return LegalRoute.PLATFORM_POLICY.value


def item_about_work(route: str, category: str) -> bool:
    """Is an item's statement about a copied work (True) or about the person depicted?"""
    return str(route) in WORK_ROUTES or str(category) == Category.COPYRIGHT.value


# -- the ground each item rests on ---------------------------------------------------------


@dataclass(frozen=True)
class Ground:
    # Short citation printed beside the item ("Article 226-8-1 of the French Criminal Code").
    provision: str
    source_url: str = ""


@dataclass(frozen=True)
class MemberState:
    name: str
    grounds: Mapping[str, Ground]


_FR_PENAL = "https://www.legifrance.gouv.fr/codes/texte_lc/LEGITEXT000006070719"
_FR_CIVIL = "https://www.legifrance.gouv.fr/codes/texte_lc/LEGITEXT000006070721"
_FR_IP = "https://www.legifrance.gouv.fr/codes/texte_lc/LEGITEXT000006069414"

# DSA Art. 16(2)(a) asks why the content is illegal: a notice names one Member State and, per
# category, the provision of its law. Add a Member State here with its sources; the agency
# chooses one (Agency.dsa_member_state).
DSA_MEMBER_STATES: dict[str, MemberState] = {
    "FR": MemberState(
        name="France",
        grounds={
            # Loi n° 2024-449 (SREN) art. 21: making public a sexual montage, or algorithmically
            # generated sexual content reproducing a person's image, without consent.
            Category.SYNTHETIC_SEXUAL.value: Ground("Article 226-8-1 of the French Criminal Code", _FR_PENAL),
            # Making public sexual images without consent to their dissemination, even where the
            # recording itself was made with consent.
            Category.REAL_INTIMATE.value: Ground("Article 226-2-1 of the French Criminal Code", _FR_PENAL),
            Category.IMPERSONATION.value: Ground(
                "Article 226-4-1 of the French Criminal Code (impersonation, including online)", _FR_PENAL
            ),
            Category.PRIVACY.value: Ground(
                "Article 9 of the French Civil Code (private life) and, for harassment, Article "
                "222-33-2-2 of the French Criminal Code",
                _FR_CIVIL,
            ),
            Category.COPYRIGHT.value: Ground(
                "Articles L122-4 and L335-3 of the French Intellectual Property Code", _FR_IP
            ),
        },
    ),
}

_SEXUAL_CRIMES_ACT = "https://www.law.go.kr/법령/성폭력범죄의처벌등에관한특례법"
_NETWORK_ACT = "https://www.law.go.kr/법령/정보통신망이용촉진및정보보호등에관한법률/제44조의2"

# Per locale: Art. 22-5 items rest on the Sexual Crimes Act article their category fits;
# Art. 44-2 items on the personality right infringed.
_KR_GROUNDS: dict[tuple[str, str], Mapping[str, Ground]] = {
    (LegalRoute.KR_TBA.value, Category.REAL_INTIMATE.value): {
        "ko": Ground(
            "성폭력범죄의 처벌 등에 관한 특례법 제14조에 따른 촬영물 또는 복제물", _SEXUAL_CRIMES_ACT
        ),
        "en": Ground(
            "Article 14 of the Act on Special Cases Concerning the Punishment of Sexual Crimes "
            "(filmed material or its copies)",
            _SEXUAL_CRIMES_ACT,
        ),
    },
    (LegalRoute.KR_TBA.value, Category.SYNTHETIC_SEXUAL.value): {
        "ko": Ground(
            "성폭력범죄의 처벌 등에 관한 특례법 제14조의2에 따른 편집물·합성물·가공물 또는 복제물(허위영상물)",
            _SEXUAL_CRIMES_ACT,
        ),
        "en": Ground(
            "Article 14-2 of the Act on Special Cases Concerning the Punishment of Sexual Crimes "
            "(falsified video material: edited, synthesized or processed material or its copies)",
            _SEXUAL_CRIMES_ACT,
        ),
    },
    (LegalRoute.KR_NETWORK.value, Category.SYNTHETIC_SEXUAL.value): {
        "ko": Ground("인격권(초상권) 및 명예 침해 — 정보통신망법 제44조의2 제1항", _NETWORK_ACT),
        "en": Ground(
            "personality rights (right of likeness) and reputation — Network Act Art. 44-2(1)", _NETWORK_ACT
        ),
    },
    (LegalRoute.KR_NETWORK.value, Category.REAL_INTIMATE.value): {
        "ko": Ground("사생활의 비밀 및 인격권 침해 — 정보통신망법 제44조의2 제1항", _NETWORK_ACT),
        "en": Ground("privacy and personality rights — Network Act Art. 44-2(1)", _NETWORK_ACT),
    },
    (LegalRoute.KR_NETWORK.value, Category.IMPERSONATION.value): {
        "ko": Ground("성명권·초상권 및 명예 침해 — 정보통신망법 제44조의2 제1항", _NETWORK_ACT),
        "en": Ground("rights of name and likeness, and reputation — Network Act Art. 44-2(1)", _NETWORK_ACT),
    },
    (LegalRoute.KR_NETWORK.value, Category.PRIVACY.value): {
        "ko": Ground("사생활의 비밀과 자유 및 명예 침해 — 정보통신망법 제44조의2 제1항", _NETWORK_ACT),
        "en": Ground("privacy and reputation — Network Act Art. 44-2(1)", _NETWORK_ACT),
    },
}

_POLICIES: dict[str, Mapping[str, str]] = {
    Category.SYNTHETIC_SEXUAL.value: {
        "en": "policy on synthetic or manipulated sexual media of a real person",
        "ko": "실존 인물의 성적 합성·조작 미디어에 관한 정책",
    },
    Category.REAL_INTIMATE.value: {
        "en": "policy on intimate imagery shared without consent",
        "ko": "동의 없이 공유된 사적 촬영물에 관한 정책",
    },
    Category.IMPERSONATION.value: {"en": "policy on impersonation", "ko": "사칭에 관한 정책"},
    Category.PRIVACY.value: {
        "en": "policy on private information and harassment",
        "ko": "개인정보 노출 및 괴롭힘에 관한 정책",
    },
    Category.COPYRIGHT.value: {"en": "copyright policy", "ko": "저작권 정책"},
}


def item_ground(route: str, category: str, *, locale: str = "en", member_state: str = "") -> Ground | None:
    """The provision an item's statement rests on, or None where the route has none per item
    (the work routes: their items rest on the work they copy) or where it is unknown (a DSA
    notice whose Member State is not chosen)."""
    route, category = str(route), str(category)
    if route == LegalRoute.DSA.value:
        state = DSA_MEMBER_STATES.get(member_state)
        return state.grounds.get(category) if state else None
    if route in (LegalRoute.KR_TBA.value, LegalRoute.KR_NETWORK.value):
        grounds = _KR_GROUNDS.get((route, category))
        if grounds is None:
            return None
        return grounds.get(locale) or grounds["en"]
    if route == LegalRoute.PLATFORM_POLICY.value:
        names = _POLICIES[category]
        return Ground(names.get(locale) or names["en"])
    return None


# -- what a notice must contain ----------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    code: str
    label: str
    # Context values that must exist (and appear in the rendering).
    context_keys: tuple[str, ...] = ()
    # locale -> more context values, for what is written differently per language (a Korean
    # notice is signed with the signatory's Korean name and title).
    locale_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # locale -> phrases that must appear in the rendered text.
    markers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Per item: values of the item (paths inside it) and phrases that must appear in that
    # item's own part of the text (from its URL to the next item's, or to the end of its block).
    item_keys: tuple[str, ...] = ()
    item_markers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # What to fix when the context lacks it (shown by the pre-send checks).
    hint: str = ""


_SIGNATORY_KEYS = {
    "en": ("signatory.name", "signatory.title"),
    "ko": ("signatory.name_ko", "signatory.title_ko"),
}
_SIGNATURE = Requirement(
    code="signature",
    label="Signature of the person authorised to act (a Korean notice: their Korean name and title)",
    locale_keys=_SIGNATORY_KEYS,
    markers={"en": ("signature",), "ko": ("서명",)},
    hint="Configure a signatory for the agency: name and title, and their Korean forms for Korean notices.",
)
_CONTACT = Requirement(
    code="contact",
    label="Contact details of the notifier",
    context_keys=("agency.name", "agency.address", "agency.email"),
    hint="Configure the agency's postal address and email address.",
)
_URLS = Requirement(
    code="infringing_urls",
    label="Exact location (URL) of each item",
    context_keys=("items[].url",),
    hint="The notice has no URLs.",
)
_REPRESENTATIVE = Requirement(
    code="representative_authority",
    label="Authority of the representative, on file (the person's authorization of the agency)",
    context_keys=("authorizations[].person",),
    locale_keys=_SIGNATORY_KEYS,
    markers={
        "en": ("authorized to act on behalf of",),
        "ko": ("위임을 받",),
    },
    hint="Record the person's authorization of the agency (Artists → Authorizations) and "
    "configure the signatory's name and title.",
)


def _person_item(code: str, label: str, en: str, ko: str) -> Requirement:
    return Requirement(
        code=code,
        label=label,
        item_keys=("person.name", "ground.provision"),
        item_markers={"en": (en,), "ko": (ko,)},
        hint="Each item needs the person it depicts and its ground.",
    )


ROUTE_REQUIREMENTS: dict[str, tuple[Requirement, ...]] = {
    # 17 U.S.C. §512(c)(3)(A)(i)-(vi).
    LegalRoute.DMCA.value: (
        Requirement(
            code="signature",
            label="Physical or electronic signature of a person authorised to act "
            "for the owner of the exclusive right (§512(c)(3)(A)(i))",
            context_keys=("signatory.name",),
            markers={"en": ("signature",), "ko": ("서명",)},
            hint="Configure a signatory (name and title) for the agency.",
        ),
        Requirement(
            code="copyrighted_work",
            label="Identification of the copyrighted work (§512(c)(3)(A)(ii))",
            context_keys=("works[].title", "works[].owner"),
            markers={"en": ("copyrighted work",), "ko": ("저작물",)},
            hint="Link each URL to the work it copies (a rights record naming its owner).",
        ),
        Requirement(
            code="infringing_urls",
            label="Identification and location of the infringing material, each URL with the "
            "work it copies (§512(c)(3)(A)(iii))",
            context_keys=("items[].url",),
            markers={"en": ("infringing",), "ko": ("침해",)},
            item_keys=("work.title", "work.owner"),
            item_markers={"en": ("copies",), "ko": ("저작물",)},
            hint="Link each URL to the work it copies.",
        ),
        Requirement(
            code="contact",
            label="Contact information of the complaining party (§512(c)(3)(A)(iv))",
            context_keys=("agency.name", "agency.address", "agency.email"),
            hint="Configure the agency's postal address and email address.",
        ),
        Requirement(
            code="good_faith",
            label="Good-faith statement (§512(c)(3)(A)(v))",
            markers={
                "en": (
                    "good faith belief",
                    "not authorized by the copyright owner, its agent, or the law",
                ),
                "ko": ("선의로 믿", "저작권자, 그 대리인 또는 법률에 의하여 허락되지"),
            },
        ),
        Requirement(
            code="perjury_accuracy",
            label="Accuracy statement and authority under penalty of perjury (§512(c)(3)(A)(vi))",
            markers={
                "en": (
                    "information in this notification is accurate",
                    "under penalty of perjury",
                    "authorized to act on behalf of the owner of an exclusive right",
                ),
                "ko": ("정확", "위증 시 처벌", "배타적 권리를 가진 자를 대리할 권한"),
            },
        ),
    ),
    # 47 U.S.C. §223a(a)(1)(B)(i)-(iv): the elements of a valid removal request.
    LegalRoute.TAKE_IT_DOWN.value: (
        _SIGNATURE,
        Requirement(
            code="depiction_location",
            label="Identification of, and information reasonably sufficient to locate, each "
            "intimate visual depiction of the identifiable individual (§223a(a)(1)(B)(ii))",
            context_keys=("items[].url",),
            markers={"en": ("intimate visual depiction",), "ko": ("친밀한 시각적 묘사",)},
            item_keys=("person.name",),
            hint="The notice has no URLs.",
        ),
        Requirement(
            code="nonconsensual_statement",
            label="Statement of good-faith belief that each depiction is not consensual, with "
            "the information showing it was published without consent (§223a(a)(1)(B)(iii))",
            markers={
                "en": ("good faith belief", "not consensual"),
                "ko": ("선의로 믿", "동의 없이"),
            },
            item_markers={"en": ("published without the consent of",), "ko": ("동의 없이 공개",)},
        ),
        _CONTACT,
        _REPRESENTATIVE,
    ),
    # Regulation (EU) 2022/2065 (DSA), Art. 16(2)(a)-(d).
    LegalRoute.DSA.value: (
        Requirement(
            code="illegality_explanation",
            label="Sufficiently substantiated explanation why the content is illegal, each item "
            "with the provision of the named Member State's law (Art. 16(2)(a))",
            context_keys=("dsa.member_state",),
            markers={
                "en": ("reasons why the information is illegal content",),
                "ko": ("불법 콘텐츠인 이유",),
            },
            item_keys=("ground.provision",),
            item_markers={"en": ("legal ground",), "ko": ("법적 근거",)},
            hint="Choose the Member State whose law the notice relies on (Agencies → DSA Member State).",
        ),
        Requirement(
            code="infringing_urls",
            label="Exact electronic location (URLs) of the content (Art. 16(2)(b))",
            context_keys=("items[].url",),
            markers={"en": ("exact electronic location",), "ko": ("정확한 전자적 위치",)},
            hint="The notice has no URLs.",
        ),
        Requirement(
            code="notifier_identity",
            label="Name and email address of the notifier (Art. 16(2)(c))",
            context_keys=("agency.name", "agency.email", "signatory.name"),
            hint="Configure the agency's email address and a signatory.",
        ),
        Requirement(
            code="bona_fide",
            label="Statement of bona fide belief that the notice is accurate and complete (Art. 16(2)(d))",
            markers={
                "en": ("bona fide belief", "accurate and complete"),
                "ko": ("선의로 믿", "정확하고 완전"),
            },
        ),
    ),
    # 전기통신사업법 제22조의5 제1항, 시행령 제30조의5: 불법촬영물등 유통 신고·삭제요청 by the
    # victim, the victim's representative, or a designated institution.
    LegalRoute.KR_TBA.value: (
        Requirement(
            code="deletion_request",
            label="Request to delete or block the illegally filmed or falsified material",
            markers={
                "en": ("delete", "block access"),
                "ko": ("삭제", "접속차단"),
            },
        ),
        Requirement(
            code="illegality_explanation",
            label="Why each item is 불법촬영물등 (Sexual Crimes Act Art. 14 or 14-2, per item)",
            markers={
                "en": ("Punishment of Sexual Crimes",),
                "ko": ("성폭력범죄의 처벌 등에 관한 특례법",),
            },
        ),
        _person_item(
            "victim_per_item",
            "Each item names the victim it depicts and the article it falls under",
            "ground:",
            "해당 근거:",
        ),
        Requirement(
            code="victim_or_institution",
            label="Filed by the victim, the victim's representative or a designated institution",
            markers={"en": ("victim",), "ko": ("피해자",)},
        ),
        _REPRESENTATIVE,
        _URLS,
        _CONTACT,
        _SIGNATURE,
    ),
    # 정보통신망법 제44조의2 제1항: 침해사실을 소명하여 삭제 요청; 제4항: 임시조치 (30일 이내).
    LegalRoute.KR_NETWORK.value: (
        Requirement(
            code="deletion_request",
            label="Request to delete the information, or at least a temporary measure (Art. 44-2(1), (4))",
            markers={"en": ("deletion", "temporary measure"), "ko": ("삭제", "임시조치")},
        ),
        Requirement(
            code="substantiation",
            label="Substantiation (소명) of the infringement of the person's rights",
            markers={
                "en": ("substantiation",),
                "ko": ("소명",),
            },
        ),
        _person_item(
            "right_per_item",
            "Each item names the person whose right it infringes and the right infringed",
            "right infringed:",
            "침해된 권리:",
        ),
        _REPRESENTATIVE,
        _URLS,
        _CONTACT,
        _SIGNATURE,
    ),
    # 저작권법 제103조 제1항, 시행령 제40조: 권리주장자의 복제·전송 중단 요청과 권리자임의 소명.
    LegalRoute.KR_COPYRIGHT.value: (
        Requirement(
            code="stop_request",
            label="Request to stop the reproduction and transmission (Art. 103(1))",
            markers={"en": ("stop the reproduction and transmission",), "ko": ("복제·전송의 중단",)},
        ),
        Requirement(
            code="rights_substantiation",
            label="Substantiation that the claimant holds the rights in each work copied",
            context_keys=("works[].title", "works[].owner"),
            markers={"en": ("substantiat",), "ko": ("소명",)},
            item_keys=("work.title", "work.owner"),
            item_markers={"en": ("work copied:",), "ko": ("복제·전송된 저작물:",)},
            hint="Link each URL to the work it copies (a rights record naming its owner).",
        ),
        Requirement(
            code="claimant_authority",
            label="The rights claimant (권리주장자) and the agency's authority for each work's owner",
            context_keys=("authorities[].holder",),
            locale_keys=_SIGNATORY_KEYS,
            markers={"en": ("rights claimant",), "ko": ("권리주장자",)},
            hint="Each work's owner must be the agency, or the artist with an authorization on file.",
        ),
        _URLS,
        _CONTACT,
        _SIGNATURE,
    ),
    # What privacy / NCII / likeness forms ask for.
    LegalRoute.PLATFORM_POLICY.value: (
        Requirement(
            code="policy_per_item",
            label="Each item names the platform policy it breaks",
            item_keys=("ground.provision",),
            item_markers={"en": ("policy",), "ko": ("정책",)},
        ),
        Requirement(
            code="representative_authority",
            label="The agency's authority, on file: the person's authorization, or the agency's "
            "own rights in the work",
            context_keys=("authorities[].holder",),
            locale_keys=_SIGNATORY_KEYS,
            markers={"en": ("on behalf of",), "ko": ("권한",)},
            hint="Record the person's authorization of the agency (Artists → Authorizations), or "
            "link the work the agency owns.",
        ),
        _URLS,
        _CONTACT,
        _SIGNATURE,
    ),
}


# -- the route's clock -------------------------------------------------------------------


@dataclass(frozen=True)
class RouteClock:
    # What the statute says about the platform's time to act, in its own words.
    rule: str
    # Hours fixed by the statute, or None where it sets no number.
    statutory_hours: int | None = None
    # Our own follow-up target where the statute sets no number: labelled as internal.
    target_hours: int | None = None
    target_note: str = ""
    # What an objection by the poster does on this route.
    counter_notice: str = ""
    # The platform may restore between these business days after a counter-notice.
    restore_business_days: tuple[int, int] | None = None
    # Days after sending on which the URLs must be looked at again, whatever their state.
    recheck_days: tuple[int, ...] = ()
    source: str = ""


ROUTE_CLOCKS: dict[str, RouteClock] = {
    LegalRoute.DMCA.value: RouteClock(
        rule="expeditiously (17 U.S.C. §512(c)(1)(C))",
        counter_notice="A counter-notice under §512(g)(3): the platform restores the material not "
        "less than 10 nor more than 14 business days after receiving it, unless the agency gives "
        "notice that it has filed an action (§512(g)(2)(C)).",
        restore_business_days=(10, 14),
        source="https://www.law.cornell.edu/uscode/text/17/512",
    ),
    LegalRoute.TAKE_IT_DOWN.value: RouteClock(
        rule="as soon as possible, but not later than 48 hours after receiving a valid request "
        "(47 U.S.C. §223a(a)(3))",
        statutory_hours=48,
        counter_notice="The Act provides no counter-notice or restore procedure; an objection "
        "is the platform's own matter.",
        source="https://www.congress.gov/bill/119th-congress/senate-bill/146/text",
    ),
    LegalRoute.DSA.value: RouteClock(
        rule="in a timely, diligent, non-arbitrary and objective manner (DSA Art. 16(6))",
        counter_notice="The poster may use the platform's internal complaint system against its "
        "decision for at least six months (DSA Art. 20(1)); there is no fixed restore window.",
        source="https://eur-lex.europa.eu/eli/reg/2022/2065/oj",
    ),
    LegalRoute.KR_TBA.value: RouteClock(
        rule="지체 없이 (without delay; 전기통신사업법 제22조의5 제1항)",
        target_hours=24,
        target_note="internal target (the KCSC digital sex crime fast track answers within 24 hours); "
        "the Act itself says 'without delay' and sets no number of hours",
        counter_notice="The Act provides no counter-notice or restore procedure.",
        source="https://www.law.go.kr/법령/전기통신사업법/제22조의5",
    ),
    LegalRoute.KR_NETWORK.value: RouteClock(
        rule="지체 없이 삭제·임시조치 등 필요한 조치 (without delay; 정보통신망법 제44조의2 제2항); "
        "a temporary measure lasts up to 30 days (제4항)",
        counter_notice="Under a temporary measure the post is hidden for up to 30 days; the poster "
        "may object and ask for it to be posted again (platform procedure). Check the URL again "
        "at day 30.",
        recheck_days=(30,),
        source=_NETWORK_ACT,
    ),
    LegalRoute.KR_COPYRIGHT.value: RouteClock(
        rule="즉시 (immediately; 저작권법 제103조 제2항)",
        counter_notice="The poster may ask for the reproduction and transmission to resume by "
        "substantiating a legitimate right (저작권법 제103조 제3항); the platform then tells the "
        "agency the resumption date and resumes on it unless the agency notifies before that date "
        "that it has filed suit. Record the date the platform gives.",
        source="https://www.law.go.kr/법령/저작권법/제103조",
    ),
    LegalRoute.PLATFORM_POLICY.value: RouteClock(
        rule="the platform's own terms (no statutory time)",
        counter_notice="Objections follow the platform's own appeal process.",
    ),
}

# Hours the platform has to act once the notice is received, as the statute sets them or as
# our internal target where it sets none; None = "expeditiously" / "without delay" with no
# number and no target of our own (the installation's default applies).
ROUTE_DEADLINE_HOURS: dict[str, int | None] = {
    route: clock.statutory_hours or clock.target_hours for route, clock in ROUTE_CLOCKS.items()
}


def deadline_basis(route: str, platform_hours: int | None = None) -> str:
    """Where a notice's deadline comes from, in words for the notice and the admin: the
    statute, the platform's own stated time, or an internal target (said so)."""
    clock = ROUTE_CLOCKS[str(route)]
    if clock.statutory_hours and (platform_hours is None or platform_hours == clock.statutory_hours):
        return f"statutory: {clock.rule}"
    if platform_hours:
        return f"the platform's stated response time ({platform_hours} h); the law: {clock.rule}"
    if clock.target_hours:
        return f"{clock.target_note} ({clock.target_hours} h)"
    return f"internal follow-up target; the law: {clock.rule}"


# -- statements a notice may make only when an item supports them ------------------------


@dataclass(frozen=True)
class Reserved:
    phrase: str
    locale: str
    # The statement is founded when an item of one of these categories is in the notice...
    categories: frozenset[str] = frozenset()
    # ...or when an item links a work (a copyright claim), or has conclusive evidence.
    needs: str = ""  # "", "work", "evidence"
    why: str = ""


def _reserve(categories: set[str], why: str, **phrases: tuple[str, ...]) -> list[Reserved]:
    return [
        Reserved(phrase=p, locale=locale, categories=frozenset(categories), why=why)
        for locale, ps in phrases.items()
        for p in ps
    ]


RESERVED: tuple[Reserved, ...] = (
    *_reserve(
        {Category.SYNTHETIC_SEXUAL.value},
        "an offence or description reserved for synthetic sexual items",
        en=("digital forgery", "Article 14-2", "226-8-1", "falsified video"),
        ko=("제14조의2", "허위영상물", "편집·합성·가공"),
    ),
    *_reserve(
        {Category.REAL_INTIMATE.value},
        "an offence or description reserved for real intimate items",
        en=("Article 14 of the Act", "226-2-1", "authentic intimate"),
        ko=("제14조에 따른 촬영물", "사적 촬영물"),
    ),
    *_reserve(
        SEXUAL,
        "a description reserved for intimate or sexual items",
        en=("intimate visual depiction", "sexual"),
        ko=("성적", "불법촬영물등에 해당"),
    ),
    *_reserve(
        {Category.IMPERSONATION.value},
        "a description reserved for impersonation items",
        en=("impersonat", "226-4-1"),
        ko=("사칭",),
    ),
    *_reserve(
        {Category.PRIVACY.value},
        "a description reserved for privacy and harassment items",
        en=("private information", "harassment"),
        ko=("사적인 정보", "괴롭힘"),
    ),
    *(
        Reserved(phrase=p, locale=locale, needs="work", why="a copyright claim without a linked work")
        for locale, ps in {
            "en": ("copyrighted work", "exclusive right", "work copied"),
            "ko": ("저작물", "저작권자"),
        }.items()
        for p in ps
    ),
    *(
        Reserved(phrase=p, locale=locale, needs="evidence", why="an evidence hash without a conclusive check")
        for locale, ps in {"en": ("SHA-256",), "ko": ("SHA-256",)}.items()
        for p in ps
    ),
)


def _data_strings(value: Any) -> list[str]:
    """Every text value of a context (names, titles, labels, facts), longest first."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            # Short values (a locale, a verdict code) would cut words of the template apart.
            if len(item) >= 6:
                found.append(_normalise(item))
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return sorted(set(found), key=len, reverse=True)


def unfounded_statements(locale: str, text: str, context: Mapping[str, Any]) -> list[str]:
    """Statements in a rendered notice that no item supports, one sentence each.

    A category's reserved phrase needs an item of that category; a copyright phrase needs an
    item linking a work; an evidence hash needs an item with a conclusive check. Only the
    template's own wording is judged: the data it prints (a work titled "Sexual Healing", a
    platform's form label) is taken out of the text first.
    """
    haystack = _normalise(text)
    for value in _data_strings(context):
        haystack = haystack.replace(value, " ")
    items = context.get("items") or []
    categories = {str(item.get("category")) for item in items}
    has_work = any(item.get("work") for item in items)
    has_evidence = any((item.get("evidence") or {}).get("sha256") for item in items)
    found = []
    for reserved in RESERVED:
        if reserved.locale != locale or _normalise(reserved.phrase) not in haystack:
            continue
        if reserved.needs == "work":
            founded = has_work
        elif reserved.needs == "evidence":
            founded = has_evidence
        else:
            founded = bool(categories & reserved.categories)
        if not founded:
            found.append(f"“{reserved.phrase}”: {reserved.why}, and no item supports it.")
    return found


# -- checking a context and a rendering ---------------------------------------------------


def requirements_for(route: str) -> tuple[Requirement, ...]:
    try:
        return ROUTE_REQUIREMENTS[str(route)]
    except KeyError:
        raise ValueError(f"unknown legal route {route!r}") from None


def context_values(context: Mapping[str, Any], path: str) -> list[str] | None:
    """The non-empty string values at `path`, or None if any is missing or empty.

    `items[].url` yields one value per item and is missing when `items` is empty.
    """
    values: list[Any] = [context]
    for part in path.split("."):
        is_list = part.endswith("[]")
        key = part.removesuffix("[]")
        next_values: list[Any] = []
        for value in values:
            child = value.get(key) if isinstance(value, Mapping) else None
            if is_list:
                if not isinstance(child, (list, tuple)) or not child:
                    return None
                next_values.extend(child)
            else:
                next_values.append(child)
        values = next_values
    result = []
    for value in values:
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        result.append(text)
    return result


def _keys(requirement: Requirement, locale: str) -> tuple[str, ...]:
    extra = requirement.locale_keys.get(locale) or requirement.locale_keys.get("en", ())
    return requirement.context_keys + tuple(extra)


def missing_elements(route: str, context: Mapping[str, Any]) -> list[str]:
    """Codes of the route's required elements whose context values are missing (for the
    notice's locale, `context["notice"]["locale"]`)."""
    missing = []
    items = context.get("items") or []
    locale = str((context.get("notice") or {}).get("locale") or "en")
    for requirement in requirements_for(route):
        lacks = any(context_values(context, key) is None for key in _keys(requirement, locale))
        lacks = lacks or any(
            context_values(item, key) is None for item in items for key in requirement.item_keys
        )
        if lacks:
            missing.append(requirement.code)
    return missing


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


def item_sections(text: str, urls: Sequence[str]) -> list[str] | None:
    """Each item's own part of a rendered text: from its URL to the next item's URL or to
    the end of its block (a blank line), whichever comes first; None if a URL is missing.

    URLs are looked for in order, each after the previous one.
    """
    starts = []
    position = 0
    for url in urls:
        found = text.find(url, position)
        if found < 0:
            return None
        starts.append(found)
        position = found + len(url)
    sections = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        blank = text.find("\n\n", start)
        if 0 <= blank < end:
            end = blank
        sections.append(text[start:end])
    return sections


def _present(values: list[str] | None, haystack: str, squeezed: str) -> bool:
    if values is None:
        return False
    for value in values:
        needle = _normalise(value)
        if needle not in haystack and re.sub(r"\s+", "", needle) not in squeezed:
            return False
    return True


def _item_element_present(requirement: Requirement, locale: str, sections, items) -> bool:
    phrases = requirement.item_markers.get(locale) or requirement.item_markers.get("en", ())
    if not (requirement.item_keys or phrases):
        return True
    if sections is None:
        return False
    for section, item in zip(sections, items, strict=True):
        haystack = _normalise(section)
        squeezed = re.sub(r"\s+", "", haystack)
        if not all(_normalise(phrase) in haystack for phrase in phrases):
            return False
        if not all(_present(context_values(item, key), haystack, squeezed) for key in requirement.item_keys):
            return False
    return True


def missing_from_text(route: str, locale: str, text: str, context: Mapping[str, Any]) -> list[str]:
    """Codes of the route's required elements not found in a rendered notice's text.

    An element is found when every marker phrase for `locale` and every context value it
    needs appears in `text`, and, for the elements about each item, when every item's own
    part of the text (`item_sections`) holds the item's values and phrases. URLs are matched
    with whitespace removed too, since a rendering may wrap them.
    """
    haystack = _normalise(text)
    squeezed = re.sub(r"\s+", "", haystack)
    items = list(context.get("items") or [])
    urls = [str(item.get("url") or "") for item in items]
    sections = item_sections(text, urls) if items and all(urls) else None
    missing = []
    for requirement in requirements_for(route):
        phrases = requirement.markers.get(locale) or requirement.markers.get("en", ())
        present = all(_normalise(phrase) in haystack for phrase in phrases)
        present = present and all(
            _present(context_values(context, key), haystack, squeezed) for key in _keys(requirement, locale)
        )
        present = present and _item_element_present(requirement, locale, sections, items)
        if not present:
            missing.append(requirement.code)
    return missing


def describe(route: str, codes: list[str]) -> list[str]:
    """Human-readable lines for missing element codes (label, and hint if any)."""
    by_code = {requirement.code: requirement for requirement in requirements_for(route)}
    lines = []
    for code in codes:
        requirement = by_code[code]
        lines.append(f"{requirement.label}: {requirement.hint}" if requirement.hint else requirement.label)
    return lines
