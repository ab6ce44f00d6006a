"""The rollup summed per dimension (`RemovalFigure`) and per agency and week (`AgencyWeek`):
what the statistics and the weekly trend read without a filter. Filled from the day cells
and the weekly sums already kept, so no rebuild is needed."""

from django.db import migrations, models

_COUNTS = "urls, notified, live, overdue, reuploads"
_SUMS = "SUM(urls), SUM(notified), SUM(live), SUM(overdue), SUM(reuploads)"
_FIGURES = "takedown_removalfigure (agency_id, dimension, key, bucket, " + _COUNTS + ")"

FILL = [
    f"INSERT INTO {_FIGURES} SELECT agency_id, 'all', '', bucket, {_SUMS} "
    "FROM takedown_removaltotal GROUP BY agency_id, bucket",
    f"INSERT INTO {_FIGURES} SELECT agency_id, 'platform', CAST(platform_id AS VARCHAR(20)), bucket, {_SUMS} "
    "FROM takedown_removaltotal GROUP BY agency_id, platform_id, bucket",
    f"INSERT INTO {_FIGURES} SELECT agency_id, 'route', legal_route, bucket, {_SUMS} "
    "FROM takedown_removaltotal GROUP BY agency_id, legal_route, bucket",
    f"INSERT INTO {_FIGURES} SELECT agency_id, 'artist', CAST(artist_id AS VARCHAR(20)), bucket, {_SUMS} "
    "FROM takedown_removaltotal GROUP BY agency_id, artist_id, bucket",
    "INSERT INTO takedown_agencyweek (agency_id, week, new, removed) "
    "SELECT agency_id, week, SUM(new), SUM(removed) FROM takedown_trendweek GROUP BY agency_id, week",
]


class Migration(migrations.Migration):
    dependencies = [
        ("takedown", "0019_contacts_per_agency"),
    ]

    operations = [
        migrations.CreateModel(
            name="AgencyWeek",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("agency_id", models.IntegerField()),
                ("week", models.DateField()),
                ("new", models.IntegerField(default=0)),
                ("removed", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("agency_id", "week"), name="agency_week_cell")],
            },
        ),
        migrations.CreateModel(
            name="RemovalFigure",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("urls", models.IntegerField(default=0)),
                ("notified", models.IntegerField(default=0)),
                ("live", models.IntegerField(default=0)),
                ("overdue", models.IntegerField(default=0)),
                ("reuploads", models.IntegerField(default=0)),
                ("agency_id", models.IntegerField()),
                ("dimension", models.CharField(max_length=8)),
                ("key", models.CharField(max_length=20)),
                ("bucket", models.SmallIntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("agency_id", "dimension", "key", "bucket"), name="rollup_figure_cell"
                    )
                ],
            },
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
