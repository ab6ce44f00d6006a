"""Copy each URL's artist's agency onto the row."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    Artist = apps.get_model("takedown", "Artist")
    InfringingURL = apps.get_model("takedown", "InfringingURL")
    InfringingURL.objects.filter(agency__isnull=True).update(
        agency_id=Subquery(Artist.objects.filter(pk=OuterRef("artist_id")).values("agency_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("takedown", "0013_scale_schema"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
