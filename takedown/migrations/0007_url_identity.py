import django.db.models.deletion
from django.db import migrations, models


def renormalize(apps, schema_editor):
    # Stored rows move to the canonical forms of the URL-forms catalogue; rows of one artist
    # that now fold to one item are linked with same_as, never deleted.
    from takedown.identity import urls_renormalize

    urls_renormalize(model=apps.get_model("takedown", "InfringingURL"))


class Migration(migrations.Migration):
    dependencies = [
        ("takedown", "0006_check_rule"),
    ]

    operations = [
        migrations.AddField(
            model_name="infringingurl",
            name="same_as",
            field=models.ForeignKey(
                blank=True,
                help_text="Set when this URL turned out to be another form of an item already recorded.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="aliases",
                to="takedown.infringingurl",
                verbose_name="same item as",
            ),
        ),
        # Going back keeps the new canonical forms: they are still valid URLs of the same
        # items, and the URL as reported is untouched in `url`.
        migrations.RunPython(renormalize, migrations.RunPython.noop, elidable=True),
    ]
