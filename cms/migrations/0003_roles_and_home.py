"""Create the five role groups and the home page under the default site."""

from django.db import migrations

ROLES = ["系统管理员", "工作人员", "代表/专家", "档案员", "部门联络员"]


def create_roles_and_home(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    # Wagtail's sample groups mean nothing here; roles replace them.
    Group.objects.filter(name__in=["Moderators", "Editors"]).delete()

    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    HomePage = apps.get_model("cms", "HomePage")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Locale = apps.get_model("wagtailcore", "Locale")

    if HomePage.objects.exists():
        return
    locale, _ = Locale.objects.get_or_create(language_code="zh-hans")
    home_type, _ = ContentType.objects.get_or_create(app_label="cms", model="homepage")
    # Wagtail's initial migration made a "Welcome" page at depth 2: replace it.
    Site.objects.all().delete()
    Page.objects.filter(depth=2).delete()
    root = Page.objects.get(depth=1)
    home = HomePage.objects.create(
        title="首页",
        draft_title="首页",
        slug="home",
        content_type=home_type,
        path=f"{root.path}0001",
        depth=2,
        numchild=0,
        url_path="/home/",
        locale=locale,
        live=True,
    )
    root.numchild = 1
    root.save(update_fields=["numchild"])
    Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="预算联网监督")


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0002_home_and_settings"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("wagtailcore", "0098_apitoken"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    run_before = []

    operations = [migrations.RunPython(create_roles_and_home, migrations.RunPython.noop)]
