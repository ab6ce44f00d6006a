from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("takedown", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="urlcheck",
            name="rule",
            field=models.CharField(blank=True, max_length=100, verbose_name="rule"),
        ),
    ]
