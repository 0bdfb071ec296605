from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "监督事项"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The debt rules are alert rule kinds of budget/ (budget.choices.RuleKind); budget's
        # evaluator asks this app for their findings through its registry.
        from budget.alerts import EXTERNAL_FINDERS

        from .debt_rules import FINDERS

        EXTERNAL_FINDERS.update(FINDERS)

        # 被引用: debt, asset and audit figures, letters and audit reports as citing documents
        from .citations import register

        register()
