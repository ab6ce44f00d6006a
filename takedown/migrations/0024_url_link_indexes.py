"""Fewer index writes per imported URL; docs/indexes.md lists who reads each index.

- The artist link loses its own index: the unique key and url_artist_status lead with it.
- The links most rows leave empty (same item as, work, depicted person, account) are indexed
  only where set.
- On PostgreSQL the note's trigram index holds only rows with a note.
"""

import django.db.models.deletion
from django.db import migrations, models

from takedown import rollup_sql


def _note_index(partial: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        where = " WHERE NOT (note = '')" if partial else ""
        schema_editor.execute("DROP INDEX IF EXISTS url_search_note")
        schema_editor.execute(
            f"CREATE INDEX url_search_note ON {rollup_sql.URL} USING gin (UPPER(note) gin_trgm_ops){where}"
        )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("takedown", "0023_host_lookup_answered"),
    ]

    operations = [
        migrations.AlterField(
            model_name="infringingurl",
            name="account",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="urls",
                to="takedown.account",
                verbose_name="account",
            ),
        ),
        migrations.AlterField(
            model_name="infringingurl",
            name="artist",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="urls",
                to="takedown.artist",
                verbose_name="artist",
            ),
        ),
        migrations.AlterField(
            model_name="infringingurl",
            name="depicted_person",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="For a group: the member this item depicts, by their authorization. Empty for a solo artist: the artist's own authorization.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="depicting_urls",
                to="takedown.authorization",
                verbose_name="person depicted",
            ),
        ),
        migrations.AlterField(
            model_name="infringingurl",
            name="same_as",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="Set when this URL turned out to be another form of an item already recorded.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="aliases",
                to="takedown.infringingurl",
                verbose_name="same item as",
            ),
        ),
        migrations.AlterField(
            model_name="infringingurl",
            name="work",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The work this item copies (a rights record of the same artist). A copyright claim is made only for an item that names one.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="copies",
                to="takedown.rightsrecord",
                verbose_name="work copied",
            ),
        ),
        migrations.AddIndex(
            model_name="infringingurl",
            index=models.Index(
                condition=models.Q(("same_as__isnull", False)), fields=["same_as"], name="url_same_as"
            ),
        ),
        migrations.AddIndex(
            model_name="infringingurl",
            index=models.Index(condition=models.Q(("work__isnull", False)), fields=["work"], name="url_work"),
        ),
        migrations.AddIndex(
            model_name="infringingurl",
            index=models.Index(
                condition=models.Q(("depicted_person__isnull", False)),
                fields=["depicted_person"],
                name="url_depicted_person",
            ),
        ),
        migrations.AddIndex(
            model_name="infringingurl",
            index=models.Index(
                condition=models.Q(("account__isnull", False)), fields=["account"], name="url_account"
            ),
        ),
        migrations.RunPython(_note_index(partial=True), _note_index(partial=False)),
    ]
