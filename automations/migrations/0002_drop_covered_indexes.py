# Indexes that every run writes and no query needs: the automation and run foreign keys' own
# (the composite indexes that start with them serve every lookup), and the LIKE pattern indexes
# of the run id and record id (ids are only ever compared whole). The triggering user's index
# keeps only the runs that have one.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from config.migration_ops import DropPatternIndex


class Migration(migrations.Migration):
    dependencies = [
        ("automations", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="actionrun",
            name="run",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="action_runs",
                to="automations.run",
            ),
        ),
        migrations.AlterField(
            model_name="run",
            name="automation",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="runs",
                to="automations.automation",
            ),
        ),
        migrations.AlterField(
            model_name="run",
            name="triggered_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="run",
            index=models.Index(
                condition=models.Q(("triggered_by__isnull", False)),
                fields=["triggered_by"],
                name="run_triggered_by",
            ),
        ),
        DropPatternIndex("run", "id"),
        DropPatternIndex("run", "record_id"),
    ]
