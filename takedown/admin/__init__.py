"""The staff admin: every model scoped to the user's agency, status fields read-only.

- `base`: the one agency-scoping rule (`AgencyScoped`, `ScopedRelatedFilter`) and read-only records;
- `intake`: URLs (list, add, CSV upload and export, rechecks, triage) and their checks;
- `agencies`: agencies, users, artists and rights records, the platform registry;
- `notices`: the notice workflow (drafts, the approval queue, sending, the timeline) and templates;
- `contacts`: abuse contacts of unlisted hosts, their lookups, the escalation ladder, recipients;
- `cases`: accounts (repeat offenders), cases and their dossiers, the chain's heads of the day;
- `jobs`: background jobs; `signin`: the sign-in audit list; `tokens`: API tokens;
- `site`: the admin site itself, its home page (each role's work first) and the dashboard.

The site class lives in this package, and Django imports it while it builds `admin.site`, so
importing the package must not register anything yet: `register()` does, once the site exists
(takedown.apps.TakedownAdminConfig.ready).
"""

from __future__ import annotations


def register() -> None:
    """Register every model admin of the project on the default admin site (once)."""
    from takedown.admin import (  # noqa: F401  (registers)
        agencies,
        cases,
        contacts,
        intake,
        jobs,
        notices,
        signin,
        tokens,
    )

    signin.register()
    tokens.register()
