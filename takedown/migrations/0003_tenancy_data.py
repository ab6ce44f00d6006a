"""Templates per agency and submitted_by: the data (see 0002_tenancy).

In a migration of its own: PostgreSQL refuses to build the constraints of 0004 in the same
transaction as these updates ("pending trigger events").
"""

from django.db import migrations


def templates_to_agencies(apps, schema_editor):
    NoticeTemplate = apps.get_model("takedown", "NoticeTemplate")
    for template in NoticeTemplate.objects.filter(created_by__isnull=False).select_related("created_by"):
        agency_id = template.created_by.agency_id
        if agency_id is not None:
            NoticeTemplate.objects.filter(pk=template.pk).update(agency_id=agency_id)
    groups = NoticeTemplate.objects.values_list(
        "agency_id", "legal_route", "locale", "platform_id"
    ).distinct()
    for agency_id, route, locale, platform_id in set(groups):
        same = NoticeTemplate.objects.filter(
            agency_id=agency_id, legal_route=route, locale=locale, platform_id=platform_id
        )
        latest = same.order_by("-version").first()
        same.exclude(pk=latest.pk).update(is_active=False)
        NoticeTemplate.objects.filter(pk=latest.pk).update(is_active=True)
    # Edits whose editor is unknown (deleted user) or had no agency stay shared defaults: an
    # operator should read them before every agency's notices use them (CHANGES.md).
    unknown = NoticeTemplate.objects.filter(agency__isnull=True, version__gt=1).order_by("pk")
    if unknown.exists():
        print(
            "\n  Shared default templates edited by a superuser or by a user no longer known; "
            "read them before they are used: "
            + ", ".join(f"#{t.pk} {t.legal_route}/{t.locale} v{t.version}" for t in unknown)
        )


def notices_submitted_by(apps, schema_editor):
    Notice = apps.get_model("takedown", "Notice")
    NoticeEvent = apps.get_model("takedown", "NoticeEvent")
    flagged = []
    submissions = NoticeEvent.objects.filter(from_status="draft", to_status="pending").order_by("at", "pk")
    for notice_id, actor_id in submissions.values_list("notice_id", "actor_id"):
        notice = Notice.objects.filter(pk=notice_id).values("reviewed_by_id").first()
        if notice is None or actor_id is None:
            continue
        if notice["reviewed_by_id"] == actor_id:
            flagged.append(notice_id)
            continue
        Notice.objects.filter(pk=notice_id).update(submitted_by_id=actor_id)
    if flagged:
        print(
            "\n  Notices reviewed by the person who submitted them (submitted_by left empty): "
            + ", ".join(f"#{pk}" for pk in sorted(set(flagged)))
        )


class Migration(migrations.Migration):
    dependencies = [
        ('takedown', '0002_tenancy'),
    ]

    operations = [
        migrations.RunPython(templates_to_agencies, migrations.RunPython.noop),
        migrations.RunPython(notices_submitted_by, migrations.RunPython.noop),
    ]
