"""The alert a letter follows is now supervision's model (same table, so nothing changes in
the database)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('letters', '0002_letter_receipt_and_answer_extension'),
        ('supervision', '0005_alerts_from_budget'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.AlterField(
            model_name='letter',
            name='alert',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='letters', to='supervision.alert', verbose_name='预警'),
        ),
        ]),
    ]
