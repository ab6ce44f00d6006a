"""Abuse contacts per agency: staff's own contacts belong to their agency, and setting a
discovered contact aside is one agency's decision (ContactSetAside), not a flag every agency
shares. The data step runs here; the old flag goes, and the constraint comes, in 0021 (on
PostgreSQL a table's ALTER cannot follow its rows' updates in one transaction)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def forwards(apps, schema_editor):
    AbuseContact = apps.get_model("takedown", "AbuseContact")
    ContactSetAside = apps.get_model("takedown", "ContactSetAside")
    HostLookup = apps.get_model("takedown", "HostLookup")
    # Staff's contacts: the agency of whoever recorded them. One whose author is gone (or was a
    # superuser without an agency) stays without one: only superusers then see it, and no
    # agency's notice uses it.
    for row in AbuseContact.objects.filter(source="staff", added_by__agency__isnull=False).values(
        "pk", "added_by__agency_id"
    ):
        AbuseContact.objects.filter(pk=row["pk"]).update(agency_id=row["added_by__agency_id"])
    # A discovered contact set aside so far was set aside by a correction, whose staff row says
    # "Corrects: <the old contact>": the set-aside is that agency's, and carries its decision
    # from now on. The shared flag also made the row not current for everyone; where the host's
    # last lookup found it (found_at is that lookup's time), it is current again, so the other
    # agencies write to it as before. One the last lookup did not find, or whose source did not
    # answer, cannot be told apart from one the registries dropped: it stays not current and
    # its host's lookup expires, so the next discovery of the host decides.
    unsure = set()
    for old in AbuseContact.objects.filter(suppressed=True).exclude(source="staff"):
        address = old.email or old.url
        corrections = AbuseContact.objects.filter(
            source="staff", host=old.host, note__contains="Corrects:", agency__isnull=False
        ).filter(note__contains=address)
        for fix in corrections:
            ContactSetAside.objects.get_or_create(
                contact_id=old.pk, agency_id=fix.agency_id,
                defaults={"by_id": fix.added_by_id, "reason": "Corrected by staff (before contacts were per agency)"},
            )
        last = HostLookup.objects.filter(host=old.host).values_list("looked_up_at", flat=True).first()
        if last is not None and old.found_at >= last:
            AbuseContact.objects.filter(pk=old.pk).update(is_current=True)
        else:
            unsure.add(old.host)
    HostLookup.objects.filter(host__in=unsure).update(expires_at=django.utils.timezone.now())


class Migration(migrations.Migration):

    dependencies = [
        ('takedown', '0018_cases_chain'),
    ]

    operations = [
        migrations.CreateModel(
            name='ContactSetAside',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='set aside at')),
                ('reason', models.TextField(blank=True, verbose_name='reason')),
            ],
            options={
                'verbose_name': 'contact set aside',
                'verbose_name_plural': 'contacts set aside',
            },
        ),
        migrations.AddField(
            model_name='abusecontact',
            name='agency',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='takedown.agency', verbose_name='agency'),
        ),
        migrations.AddField(
            model_name='contactsetaside',
            name='agency',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='takedown.agency', verbose_name='agency'),
        ),
        migrations.AddField(
            model_name='contactsetaside',
            name='by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='contactsetaside',
            name='contact',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='set_asides', to='takedown.abusecontact', verbose_name='contact'),
        ),
        migrations.AddConstraint(
            model_name='contactsetaside',
            constraint=models.UniqueConstraint(fields=('contact', 'agency'), name='contact_set_aside_once'),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
