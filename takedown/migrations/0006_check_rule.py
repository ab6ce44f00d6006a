from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("takedown", "0005_signin"),
    ]

    operations = [
        migrations.AddField(
            model_name="urlcheck",
            name="rule",
            field=models.CharField(blank=True, max_length=100, verbose_name="rule"),
        ),
        migrations.AlterField(
            model_name="platform",
            name="markers",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text=(
                    "Page texts per verdict (removed, soft_removed, restricted, legally_blocked, "
                    "inconclusive) and removed_redirects (patterns of redirect targets meaning removed). "
                    'Write a text as "@<where> <text>" to say where the platform shows it: a CSS selector '
                    "such as div.removed, or title, markup or page; a bare text is looked for in the "
                    "platform's error box only. Text anywhere on the page or in the title can only make a "
                    "check inconclusive."
                ),
            ),
        ),
    ]
