from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = "政策法规库"

    def ready(self):
        from . import searchables

        searchables.register()
