from django.db import migrations


def seed(apps, schema_editor):
    from django.conf import settings

    from archive.defaults import ensure_defaults

    ensure_defaults(
        apps.get_model("archive", "ArchiveClass"),
        apps.get_model("archive", "RetentionRule"),
        getattr(settings, "ARCHIVE_CLASS_SCHEME", "organisation"),
    )


class Migration(migrations.Migration):
    dependencies = [("archive", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
