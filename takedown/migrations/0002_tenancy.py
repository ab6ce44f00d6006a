"""Templates per agency, and who submitted each notice (four-eyes).

Data: until now every template was shared, and an edit by any agency's legal reviewer became
every agency's active version. Each edited version now belongs to the agency of the user who
saved it, and each agency's latest version is its active one; versions saved by nobody or by a
superuser (no agency) stay shipped defaults, and the latest default is active again for every
other agency. `submitted_by` is filled from each notice's submission event, except where the
same person then reviewed it (the constraint would refuse the row): those notices are listed
on the console so that an operator can look at them.
"""

import django.db.models.deletion
import django.db.models.functions.comparison
import takedown.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('takedown', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelManagers(
            name="user",
            managers=[
                ("objects", takedown.models.TakedownUserManager()),
            ],
        ),
        migrations.RemoveConstraint(
            model_name="noticetemplate",
            name="template_version_unique",
        ),
        migrations.AddField(
            model_name="notice",
            name="submitted_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="submitted by",
            ),
        ),
        migrations.AddField(
            model_name="noticetemplate",
            name="agency",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty: a shipped default, shared by every agency and read-only to them.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="templates",
                to="takedown.agency",
                verbose_name="agency",
            ),
        ),
    ]
