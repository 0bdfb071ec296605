"""Wagtail's own migration creates a workflow and task named “Moderators approval”; staff
saw “提交给Moderators approval”. Give them Chinese names (the Moderators group itself is
removed in 0003)."""

from django.db import migrations

NAMES = {"Moderators approval": "审核发布"}


def rename(apps, schema_editor):
    Workflow = apps.get_model("wagtailcore", "Workflow")
    Task = apps.get_model("wagtailcore", "Task")
    for english, chinese in NAMES.items():
        Workflow.objects.filter(name=english).update(name=chinese)
        Task.objects.filter(name=english).update(name=chinese)


def restore(apps, schema_editor):
    Workflow = apps.get_model("wagtailcore", "Workflow")
    Task = apps.get_model("wagtailcore", "Task")
    for english, chinese in NAMES.items():
        Workflow.objects.filter(name=chinese).update(name=english)
        Task.objects.filter(name=chinese).update(name=english)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0003_roles_and_home"),
        ("wagtailcore", "0094_alter_page_locale"),
    ]

    operations = [migrations.RunPython(rename, restore)]
