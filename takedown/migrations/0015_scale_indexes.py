"""Indexes that match what the pages ask, the rollup's triggers and, on PostgreSQL, trigram search.

docs/indexes.md lists every index of the URL table with the query it serves. Dropped here:
url_platform_status and url_host (no query filters by them within the table's size: the
platform filter runs within an agency's list), url_normalized (the pre-send check finds recent
notices from the notice side; the unique key serves lookups by artist and URL).
"""

from django.db import migrations, models

from takedown import rollup_sql



def _install(apps, schema_editor):
    # The triggers and search indexes live in takedown.rollup_sql, which also re-installs them
    # after every migrate (SQLite drops a table's triggers when a migration rebuilds it).
    rollup_sql.install(schema_editor.connection)
    rollup_sql.mark_existing(schema_editor.connection)


def _uninstall(apps, schema_editor):
    rollup_sql.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("takedown", "0014_url_agency_data"),
    ]

    operations = [
        migrations.AlterField(
            model_name="infringingurl",
            name="agency",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="takedown.agency",
                verbose_name="agency",
            ),
        ),
        migrations.RemoveIndex(model_name="infringingurl", name="url_platform_status"),
        migrations.RemoveIndex(model_name="infringingurl", name="url_host"),
        migrations.RemoveIndex(model_name="infringingurl", name="url_normalized"),
        migrations.RemoveIndex(model_name="infringingurl", name="url_overdue"),
        migrations.AddIndex(
            model_name="infringingurl",
            index=models.Index(fields=["agency", "-discovered_at", "-id"], name="url_agency_recent"),
        ),
        migrations.AddIndex(
            model_name="infringingurl",
            index=models.Index(
                condition=models.Q(("overdue_since__isnull", False), ("status", "notified")),
                fields=["agency", "deadline_at"],
                name="url_overdue",
            ),
        ),
        migrations.AddIndex(
            model_name="removalrollup",
            index=models.Index(fields=["artist_id", "day"], name="rollup_artist_day"),
        ),
        migrations.AddConstraint(
            model_name="removalrollup",
            constraint=models.UniqueConstraint(
                fields=("agency_id", "day", "artist_id", "platform_id", "legal_route", "bucket"),
                name="rollup_cell",
            ),
        ),
        migrations.AddConstraint(
            model_name="removaltotal",
            constraint=models.UniqueConstraint(
                fields=("agency_id", "artist_id", "platform_id", "legal_route", "bucket"),
                name="rollup_total_cell",
            ),
        ),
        migrations.AddIndex(
            model_name="removalweek",
            index=models.Index(fields=["artist_id", "day"], name="rollup_week_artist_day"),
        ),
        migrations.AddConstraint(
            model_name="removalweek",
            constraint=models.UniqueConstraint(
                fields=("agency_id", "day", "artist_id", "platform_id", "legal_route", "week"),
                name="rollup_week_cell",
            ),
        ),
        migrations.AddIndex(
            model_name="trendweek",
            index=models.Index(fields=["artist_id", "week"], name="trend_week_artist"),
        ),
        migrations.AddConstraint(
            model_name="trendweek",
            constraint=models.UniqueConstraint(
                fields=("agency_id", "week", "artist_id", "platform_id", "legal_route"),
                name="trend_week_cell",
            ),
        ),
        migrations.RunPython(_install, _uninstall),
    ]
