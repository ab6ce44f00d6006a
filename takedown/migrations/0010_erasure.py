import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('takedown', '0009_job_leases'),
    ]

    operations = [
        migrations.CreateModel(
            name='Erasure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('artist_ref', models.PositiveBigIntegerField(verbose_name='artist id')),
                ('operator', models.CharField(blank=True, max_length=100, verbose_name='server account')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='time')),
                ('deleted', models.JSONField(default=dict, help_text='Rows deleted, per kind.', verbose_name='deleted')),
                ('kept', models.JSONField(default=dict, help_text='What the law requires to be kept: notice ids, until when, why.', verbose_name='kept')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='nothing left since')),
                ('agency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='takedown.agency')),
                ('performed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='performed by')),
            ],
            options={
                'verbose_name': 'erasure',
                'verbose_name_plural': 'erasures',
                'ordering': ['-at', '-pk'],
            },
        ),
    ]
