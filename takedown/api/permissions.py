"""Role checks for the API, from the role permissions in takedown.roles.

A view names the permission each action needs in `role_perms` ({action: codename}). Actions in
`role_perms_after_lookup` are checked against the object, after the agency-scoped lookup, so
another agency's object is a 404 whatever the caller's role.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from takedown import notices
from takedown.choices import Role
from takedown.roles import role_has, roles_with

# The notice workflow's actions the API offers; who may take each comes from its table.
NOTICE_ACTIONS = ("prepare", "submit", "approve", "reject", "send")

_WHAT = {
    "view_artist": "read artists",
    "add_artist": "add artists",
    "view_platform": "read the platform registry",
    "view_infringingurl": "read URLs",
    "add_infringingurl": "import URLs",
    "view_urlcheck": "read URL checks",
    "view_notice": "read notices",
    "view_account": "read accounts",
    "view_case": "read cases",
    "add_case": "propose cases",
    "change_case": "change cases (legal reviewers only)",
    "export_dossier": "export dossiers (legal reviewers only)",
}


def _what(codename: str) -> str:
    """What a permission lets its holder do, in words; the notice workflow's from its table."""
    if codename in _WHAT:
        return _WHAT[codename]
    verbs = notices.verbs_needing(codename, NOTICE_ACTIONS)
    if not verbs:
        return codename
    who = roles_with(codename)
    return f"{verbs} notices" + (f" ({who} only)" if " and " not in who else "")


_OPEN = "*open*"  # sentinel: an action that needs no role permission (OPTIONS metadata)


def _codename(view) -> str | None:
    """The codename the current action needs; None (deny) when the view does not name one."""
    perms: dict[str, str] = getattr(view, "role_perms", {})
    action = getattr(view, "action", None) or view.request.method.lower()
    if action in ("metadata", "options"):
        return _OPEN
    return perms.get(action, perms.get("*"))


def _denied_message(user, codename: str) -> str:
    try:
        role = Role(user.role).label
    except ValueError:
        role = user.role or "none"
    return f"Your role ({role}) may not {_what(codename)}."


def _unsupported_method(request, view) -> bool:
    """The view has no handler for this method: let DRF answer 405 rather than a role's 403."""
    method = request.method.lower()
    action_map = getattr(view, "action_map", None)
    if action_map is not None:
        return method not in action_map and method != "options"
    return not hasattr(view, method)


class HasRole(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        if _unsupported_method(request, view):
            return True
        action = getattr(view, "action", None)
        if action in getattr(view, "role_perms_after_lookup", ()):
            return True
        codename = _codename(view)
        if codename == _OPEN or (codename is not None and role_has(user, codename)):
            return True
        self.message = _denied_message(user, codename or "do this")
        return False

    def has_object_permission(self, request, view, obj) -> bool:
        if getattr(view, "action", None) not in getattr(view, "role_perms_after_lookup", ()):
            return True
        codename = _codename(view)
        if codename is not None and role_has(request.user, codename):
            return True
        self.message = _denied_message(request.user, codename or "do this")
        return False
