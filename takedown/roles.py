"""What each role may do, as data, and the auth backend that grants it.

Roles are fixed by the product (staff, legal reviewers, managers, API clients), so their permissions live in code
rather than in editable groups; a superuser still gets everything. Agency scoping is not a
permission: querysets are filtered by `visible_to(user)` everywhere.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from takedown.choices import Role

_READ = [
    "view_agency",
    "view_artist",
    "view_authorization",
    "view_rightsrecord",
    "view_platform",
    "view_infringingurl",
    "view_urlcheck",
    "view_noticetemplate",
    "view_notice",
    "view_noticeitem",
    "view_noticeevent",
    "view_abusecontact",
    "view_hostlookup",
    "view_escalationstep",
]
_INTAKE = ["add_infringingurl", "change_infringingurl"]
# A host's abuse contacts: staff and legal add or correct them (shared by every agency).
_CONTACTS = ["add_abusecontact", "change_abusecontact"]
_DRAFT = ["add_notice", "change_notice", "add_noticeitem", "delete_noticeitem"]
# Cases (takedown.cases): staff propose, legal reviewers own, change and export them.
_CASES_READ = ["view_case", "view_caseevent", "view_account"]
_CASES_PROPOSE = ["add_case"]
_CASES_OWN = ["change_case", "export_dossier"]
_ARTISTS = ["add_artist", "change_artist", "add_rightsrecord", "change_rightsrecord", "delete_rightsrecord"]

# An artist's authorization of the agency, and its documents (위임장, masked ID copy): legal
# reviewers record them; the documents are theirs alone to see (AuthorizationDocument.visible_to).
_AUTHORIZATIONS = [
    "add_authorization",
    "change_authorization",
    "view_authorizationdocument",
    "add_authorizationdocument",
    "delete_authorizationdocument",
]

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.STAFF: frozenset(_READ + _INTAKE + _CONTACTS + _DRAFT + _ARTISTS + _CASES_READ + _CASES_PROPOSE),
    Role.LEGAL: frozenset(
        _READ
        + _INTAKE
        + _CONTACTS
        + _DRAFT
        + _ARTISTS
        + _AUTHORIZATIONS
        + _CASES_READ
        + _CASES_PROPOSE
        + _CASES_OWN
        + ["add_noticetemplate", "change_noticetemplate", "review_notice", "view_erasure"]
    ),
    # Managers run the agency's integrations: they issue and revoke its API tokens (revoking is
    # a change; only superusers delete a token's record). They also read its sign-in audit list.
    Role.MANAGER: frozenset(
        _READ
        + _ARTISTS
        + _CASES_READ
        + [
            # The chain's heads of the day: managers see and export them (an outside anchor).
            "view_chainanchor",
            "change_agency",
            "view_apitoken",
            "add_apitoken",
            "change_apitoken",
            "view_signinevent",
            "view_erasure",
        ]
    ),
    Role.API: frozenset(
        [
            "view_artist",
            "view_platform",
            "view_infringingurl",
            "view_urlcheck",
            "view_notice",
            "view_abusecontact",
            "view_account",
        ]
        + _INTAKE
    ),
}


def role_has(user, codename: str) -> bool:
    """Does the user's role (or superuser status) allow `codename` (without app label)?"""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    return codename in ROLE_PERMISSIONS.get(getattr(user, "role", ""), frozenset())


class RoleBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        perms = set(super().get_all_permissions(user_obj, obj))
        if user_obj.is_active and not user_obj.is_anonymous and obj is None:
            perms |= {c if "." in c else f"takedown.{c}" for c in ROLE_PERMISSIONS.get(user_obj.role, ())}
        return perms


_ROLE_NOUNS = {
    Role.STAFF: "staff",
    Role.LEGAL: "legal reviewers",
    Role.MANAGER: "managers",
    Role.API: "API clients",
}


def roles_with(codename: str) -> str:
    """'staff and legal reviewers': the roles that hold a permission, for messages and docs."""
    nouns = [noun for role, noun in _ROLE_NOUNS.items() if codename in ROLE_PERMISSIONS.get(role, ())]
    if not nouns:
        return "superusers"
    return nouns[0] if len(nouns) == 1 else f"{', '.join(nouns[:-1])} and {nouns[-1]}"
