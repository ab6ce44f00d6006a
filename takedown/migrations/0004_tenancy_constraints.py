"""Templates per agency and four-eyes: the constraints (see 0002_tenancy)."""

import django.db.models.functions.comparison
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('takedown', '0003_tenancy_data'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="notice",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reviewed_by__isnull", True),
                    models.Q(("reviewed_by", models.F("submitted_by")), _negated=True),
                    _connector="OR",
                ),
                name="notice_reviewer_not_submitter",
            ),
        ),
        migrations.AddConstraint(
            model_name="noticetemplate",
            constraint=models.UniqueConstraint(
                django.db.models.functions.comparison.Coalesce("agency", models.Value(0)),
                models.F("legal_route"),
                models.F("locale"),
                django.db.models.functions.comparison.Coalesce("platform", models.Value(0)),
                models.F("version"),
                name="template_version_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="noticetemplate",
            constraint=models.UniqueConstraint(
                django.db.models.functions.comparison.Coalesce("agency", models.Value(0)),
                models.F("legal_route"),
                models.F("locale"),
                django.db.models.functions.comparison.Coalesce("platform", models.Value(0)),
                condition=models.Q(("is_active", True)),
                name="template_one_active",
            ),
        ),
    ]
