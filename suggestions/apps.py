from django.apps import AppConfig


class SuggestionsConfig(AppConfig):
    name = "suggestions"
    verbose_name = "代表建议"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import searchables
        from .middleware import note_login

        searchables.register()
        user_logged_in.connect(note_login, dispatch_uid="suggestions_first_login")
