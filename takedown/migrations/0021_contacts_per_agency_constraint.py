"""Abuse contacts per agency (second half, see 0019): the shared "set aside" flag goes, a
contact with an agency is a staff one; escalation steps say how their notice ended."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('takedown', '0020_rollup_figures'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='abusecontact',
            name='suppressed',
        ),
        migrations.AlterField(
            model_name='escalationstep',
            name='state',
            field=models.CharField(choices=[('drafted', 'drafted for review'), ('sent', 'sent'), ('skipped', 'skipped'), ('no_recipient', 'no recipient known'), ('rejected', 'notice rejected, awaiting revision'), ('cancelled', 'notice cancelled, to be drafted again'), ('closed', 'closed: the URL no longer needs it')], max_length=15, verbose_name='state'),
        ),
        migrations.AddConstraint(
            model_name='abusecontact',
            constraint=models.CheckConstraint(condition=models.Q(('agency__isnull', True), ('source', 'staff'), _connector='OR'), name='contact_agency_only_staff'),
        ),
    ]
