"""Adapters that make each module's records fileable (see archive/sources.py).

One module per source module; each has a ``register()`` that calls register_source.
A module whose app is not installed is skipped."""

from importlib import import_module

from django.apps import apps

# adapter module → the app it needs
ADAPTERS = {
    "archive.source_adapters.policies": "policies",
    "archive.source_adapters.alerts": "budget",
    "archive.source_adapters.exports": "cms.usage",
    "archive.source_adapters.usage_log": "cms.usage",
    "archive.source_adapters.suggestions": "suggestions",
    "archive.source_adapters.briefings": "briefings",
    "archive.source_adapters.queries": "supervision",
}


def register_all() -> None:
    for module, app_label in ADAPTERS.items():
        if apps.is_installed(app_label):
            import_module(module).register()
