import django.db.models
from django.db import migrations

import takedown.models


class Migration(migrations.Migration):
    dependencies = [
        ("takedown", "0012_cancelled_notices"),
    ]

    operations = [
        migrations.AddField(
            model_name="agency",
            name="time_zone",
            field=django.db.models.CharField(
                default="Asia/Seoul",
                help_text="An IANA zone name such as Asia/Seoul or Europe/Berlin: every time shown is in it.",
                max_length=64,
                validators=[takedown.models.validate_time_zone],
                verbose_name="time zone",
            ),
        ),
    ]
