"""What a notice must contain on each legal route, as data.

Each route lists its required elements (`Requirement`). An element can be proved in
two ways, and both are checked:

- `context_keys`: the notice context must carry these values (a signatory's name, the
  agency's email, every URL...). `missing_elements()` checks the context before
  rendering: "no signatory configured for the agency", "DMCA needs a rights record".
  The same values must also appear in the rendered text.
- `markers`: per locale, phrases that must appear in the rendered text: the statutory
  statements (good faith, penalty of perjury, 소명...). They are short and close to the
  statute's own words so that a legal reviewer editing a template keeps them.

`missing_from_text()` checks a rendering (text version) against both. Matching ignores
case and runs of whitespace, so line wrapping in a template does not matter.

Context key paths are dotted; `items[].url` means "the list `items` is not empty and
every element has a non-empty `url`".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from takedown.choices import LegalRoute


@dataclass(frozen=True)
class Requirement:
    code: str
    label: str
    # Context values that must exist (and appear in the rendering).
    context_keys: tuple[str, ...] = ()
    # locale -> phrases that must appear in the rendered text.
    markers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # What to fix when the context lacks it (shown by the pre-send checks).
    hint: str = ""


# -- elements shared by several routes ------------------------------------------------

_SIGNATURE = Requirement(
    code="signature",
    label="Signature of the person authorised to act",
    context_keys=("signatory.name",),
    markers={"en": ("signature",), "ko": ("서명",)},
    hint="Configure a signatory (name and title) for the agency.",
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
_DEPICTED_PERSON = Requirement(
    code="depicted_person",
    label="Identity of the person depicted",
    context_keys=("artist.name",),
    hint="The artist has no name.",
)
_REPRESENTATIVE = Requirement(
    code="representative_authority",
    label="Authority of the representative acting for the person",
    context_keys=("signatory.name", "signatory.title"),
    markers={
        "en": ("authorized to act on behalf of",),
        "ko": ("위임을 받",),
    },
    hint="Configure the signatory's name and title for the agency.",
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
            context_keys=("works[].title",),
            markers={"en": ("copyrighted work",), "ko": ("저작물",)},
            hint="DMCA needs a rights record for the work: add the artist's "
            "copyrighted works (ownership records) first.",
        ),
        Requirement(
            code="infringing_urls",
            label="Identification and location of the infringing material (§512(c)(3)(A)(iii))",
            context_keys=("items[].url",),
            markers={"en": ("infringing",), "ko": ("침해",)},
            hint="The notice has no URLs.",
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
    # TAKE IT DOWN Act, Sec. 3(a)(1)(B)(i)-(iv): the elements of a valid removal request.
    LegalRoute.TAKE_IT_DOWN.value: (
        _SIGNATURE,
        Requirement(
            code="depiction_location",
            label="Identification of the intimate visual depiction and information "
            "reasonably sufficient to locate it",
            context_keys=("artist.name", "items[].url"),
            markers={"en": ("intimate visual depiction",), "ko": ("친밀한 시각적 묘사",)},
            hint="The notice has no URLs.",
        ),
        Requirement(
            code="nonconsensual_statement",
            label="Statement of good-faith belief that the depiction is not consensual",
            markers={
                "en": ("good faith belief", "not consensual"),
                "ko": ("선의로 믿", "동의 없이"),
            },
        ),
        _CONTACT,
        _REPRESENTATIVE,
    ),
    # Regulation (EU) 2022/2065 (DSA), Art. 16(2)(a)-(d).
    LegalRoute.DSA.value: (
        Requirement(
            code="illegality_explanation",
            label="Sufficiently substantiated explanation why the content is illegal (Art. 16(2)(a))",
            markers={
                "en": ("reasons why the information is illegal content",),
                "ko": ("불법 콘텐츠인 이유",),
            },
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
    # 전기통신사업법 제22조의5 제1항: 불법촬영물등 (성폭력처벌법 제14조 촬영물,
    # 제14조의2 허위영상물 등) 삭제요청 by the victim, the victim's representative, or a
    # designated institution.
    LegalRoute.KR_TBA.value: (
        Requirement(
            code="deletion_request",
            label="Request to delete or block the illegally filmed / synthetic material",
            markers={
                "en": ("delete", "block access"),
                "ko": ("삭제", "접속차단"),
            },
        ),
        Requirement(
            code="illegality_explanation",
            label="Why the material is 불법촬영물등 (Sexual Crimes Act Art. 14 / 14-2)",
            markers={
                "en": ("Punishment of Sexual Crimes",),
                "ko": ("성폭력범죄의 처벌 등에 관한 특례법",),
            },
        ),
        Requirement(
            code="victim_or_institution",
            label="Filed by the victim, the victim's representative or a designated institution",
            context_keys=("artist.name",),
            markers={"en": ("victim",), "ko": ("피해자",)},
            hint="The artist has no name.",
        ),
        _REPRESENTATIVE,
        _URLS,
        _CONTACT,
        _SIGNATURE,
    ),
    # 정보통신망법 제44조의2 제1항: 침해사실을 소명하여 삭제 요청.
    LegalRoute.KR_NETWORK.value: (
        Requirement(
            code="deletion_request",
            label="Request to delete the information (Art. 44-2(1))",
            markers={"en": ("deletion",), "ko": ("삭제",)},
        ),
        Requirement(
            code="substantiation",
            label="Substantiation (소명) of the infringement of the person's rights",
            markers={
                "en": ("substantiation",),
                "ko": ("소명",),
            },
        ),
        _DEPICTED_PERSON,
        _REPRESENTATIVE,
        _URLS,
        _CONTACT,
        _SIGNATURE,
    ),
    # What privacy / NCII / likeness forms ask for.
    LegalRoute.PLATFORM_POLICY.value: (
        Requirement(
            code="depicted_person",
            label="Identity of the person depicted",
            context_keys=("artist.name",),
            markers={"en": ("depicted",), "ko": ("본인",)},
            hint="The artist has no name.",
        ),
        _REPRESENTATIVE,
        _URLS,
        _CONTACT,
        _SIGNATURE,
    ),
}

# Hours the platform has to act once the notice is received; None = "expeditiously" /
# "without delay" with no fixed number.
ROUTE_DEADLINE_HOURS: dict[str, int | None] = {
    LegalRoute.DMCA.value: None,
    LegalRoute.TAKE_IT_DOWN.value: 48,
    LegalRoute.DSA.value: None,
    # The statute says 지체 없이; 24 h is the KCSC digital sex crime fast track.
    LegalRoute.KR_TBA.value: 24,
    LegalRoute.KR_NETWORK.value: None,
    LegalRoute.PLATFORM_POLICY.value: None,
}


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


def missing_elements(route: str, context: Mapping[str, Any]) -> list[str]:
    """Codes of the route's required elements whose context values are missing."""
    return [
        requirement.code
        for requirement in requirements_for(route)
        if any(context_values(context, key) is None for key in requirement.context_keys)
    ]


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


def missing_from_text(route: str, locale: str, text: str, context: Mapping[str, Any]) -> list[str]:
    """Codes of the route's required elements not found in a rendered notice's text.

    An element is found when every marker phrase for `locale` and every context value
    it needs appears in `text`. URLs are matched with whitespace removed, since a
    rendering may wrap them.
    """
    haystack = _normalise(text)
    squeezed = re.sub(r"\s+", "", haystack)
    missing = []
    for requirement in requirements_for(route):
        phrases = requirement.markers.get(locale) or requirement.markers.get("en", ())
        present = all(_normalise(phrase) in haystack for phrase in phrases)
        for key in requirement.context_keys:
            values = context_values(context, key)
            if values is None:
                present = False
                continue
            for value in values:
                needle = _normalise(value)
                if needle not in haystack and re.sub(r"\s+", "", needle) not in squeezed:
                    present = False
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
