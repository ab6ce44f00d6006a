"""A host lookup counts only once a source has answered (found or none): the ladder waits for
a host whose lookups were all cut short or failed instead of skipping its desks. Existing
lookups are marked from their recorded steps."""

from django.db import migrations, models


def forwards(apps, schema_editor):
    HostLookup = apps.get_model("takedown", "HostLookup")
    answered = [
        pk
        for pk, steps in HostLookup.objects.values_list("pk", "steps")
        if any(isinstance(s, dict) and s.get("outcome") in ("found", "none") for s in steps or [])
    ]
    for lookup in HostLookup.objects.filter(pk__in=answered).only("pk", "looked_up_at"):
        HostLookup.objects.filter(pk=lookup.pk).update(answered_at=lookup.looked_up_at)


class Migration(migrations.Migration):

    dependencies = [
        ('takedown', '0022_chain_deletions'),
    ]

    operations = [
        migrations.AddField(
            model_name='hostlookup',
            name='answered_at',
            field=models.DateTimeField(blank=True, help_text='Empty until a lookup of this host has had an answer (found or none) from at least one source.', null=True, verbose_name='a source last answered at'),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
