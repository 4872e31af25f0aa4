# Indexes that every record save writes and no query needs: the module foreign key's own
# (record_module_created starts with it) and the record id's LIKE pattern index.

import django.db.models.deletion
from django.db import migrations, models

from config.migration_ops import DropPatternIndex


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="record",
            name="module",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="records",
                to="records.module",
            ),
        ),
        DropPatternIndex("record", "id"),
    ]
