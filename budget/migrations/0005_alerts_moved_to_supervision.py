"""Alert rules, alerts and their events now belong to supervision/ (its migration 0005 takes
them over with their tables); here they leave budget's state only. No table is dropped."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("budget", "0004_alert_rule_debt_kinds"),
        ("supervision", "0005_alerts_from_budget"),
        ("letters", "0003_alert_in_supervision"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="alert", name="department"),
                migrations.RemoveField(model_name="alert", name="owner"),
                migrations.RemoveField(model_name="alert", name="rule"),
                migrations.RemoveField(model_name="alertevent", name="alert"),
                migrations.RemoveField(model_name="alertevent", name="actor"),
                migrations.RemoveField(model_name="alertrule", name="owner"),
                migrations.DeleteModel(name="Alert"),
                migrations.DeleteModel(name="AlertEvent"),
                migrations.DeleteModel(name="AlertRule"),
            ]
        )
    ]
