from django.apps import AppConfig


def _evaluate_after_budget_import(sender, batch_id, **kwargs):
    from .tasks import evaluate_alerts_after_import

    evaluate_alerts_after_import.delay(batch_id)


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "监督事项"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from budget.signals import figures_imported

        # The debt rules compute their findings in debt_rules.py; the evaluator in alerts.py
        # finds them through its registry of finders kept outside alerts.py.
        from .alerts import EXTERNAL_FINDERS
        from .debt_rules import FINDERS
        from .fiscal_rules import FINDERS as FISCAL_FINDERS

        EXTERNAL_FINDERS.update(FINDERS)
        EXTERNAL_FINDERS.update(FISCAL_FINDERS)
        figures_imported.connect(_evaluate_after_budget_import, dispatch_uid="supervision-alerts")

        # 被引用: debt, asset and audit figures, letters and audit reports as citing documents
        from .blocks import register as register_blocks
        from .citations import register

        register()
        register_blocks()  # 预算分析 pages accept the debt, asset and audit figure blocks
