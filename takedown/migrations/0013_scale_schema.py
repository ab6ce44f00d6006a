"""The agency on the URL row (filled by 0014, required by 0015) and the statistics' rollup."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("takedown", "0012_cancelled_notices"),
    ]

    operations = [
        migrations.CreateModel(
            name="RemovalRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("agency_id", models.IntegerField()),
                ("day", models.DateField()),
                ("artist_id", models.IntegerField()),
                ("platform_id", models.IntegerField()),
                ("legal_route", models.CharField(max_length=20)),
                ("bucket", models.SmallIntegerField()),
                ("urls", models.IntegerField(default=0)),
                ("notified", models.IntegerField(default=0)),
                ("live", models.IntegerField(default=0)),
                ("overdue", models.IntegerField(default=0)),
                ("reuploads", models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="RemovalTotal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("agency_id", models.IntegerField()),
                ("artist_id", models.IntegerField()),
                ("platform_id", models.IntegerField()),
                ("legal_route", models.CharField(max_length=20)),
                ("bucket", models.SmallIntegerField()),
                ("urls", models.IntegerField(default=0)),
                ("notified", models.IntegerField(default=0)),
                ("live", models.IntegerField(default=0)),
                ("overdue", models.IntegerField(default=0)),
                ("reuploads", models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="RemovalWeek",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("agency_id", models.IntegerField()),
                ("day", models.DateField()),
                ("artist_id", models.IntegerField()),
                ("platform_id", models.IntegerField()),
                ("legal_route", models.CharField(max_length=20)),
                ("week", models.DateField()),
                ("removed", models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="TrendWeek",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("agency_id", models.IntegerField()),
                ("week", models.DateField()),
                ("artist_id", models.IntegerField()),
                ("platform_id", models.IntegerField()),
                ("legal_route", models.CharField(max_length=20)),
                ("new", models.IntegerField(default=0)),
                ("removed", models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="RollupChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("artist_id", models.IntegerField()),
                ("discovered_at", models.DateTimeField()),
                ("claimed", models.BooleanField(default=False)),
            ],
        ),
        migrations.AddField(
            model_name="infringingurl",
            name="agency",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="takedown.agency",
                verbose_name="agency",
            ),
        ),
    ]
