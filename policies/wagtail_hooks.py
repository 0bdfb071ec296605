from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from cms.home import HomePanel, HomePanelItem
from cms.nav import NavItem

from . import admin_views
from .models import READ_PERMISSION, UPLOAD_PERMISSION, PolicyCategory, PolicyPage


class PolicyCategoryViewSet(SnippetViewSet):
    model = PolicyCategory
    icon = "folder-open-inverse"
    menu_label = "政策法规分类"
    menu_order = 310
    add_to_admin_menu = True
    list_display = ["__str__", "sort_order"]
    search_fields = ["name"]
    panels = ["name", "parent", "sort_order"]


register_snippet(PolicyCategoryViewSet)

admin_urlpatterns = [
    path("upload/", admin_views.upload, name="upload"),
    path("status/", admin_views.status, name="status"),
]


@hooks.register("register_admin_urls")
def policy_admin_urls():
    return [path("policies/", include((admin_urlpatterns, "policies_admin")))]


class UploaderMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(UPLOAD_PERMISSION)


@hooks.register("register_admin_menu_item")
def upload_menu_item():
    return UploaderMenuItem(
        "上传政策法规", reverse("policies_admin:upload"), icon_name="upload", order=300
    )


@hooks.register("register_home_panel")
def recent_policies_panel(request):
    if not request.user.has_perm(READ_PERMISSION):
        return None
    pages = PolicyPage.objects.live().order_by("-first_published_at")[:6]
    items = [
        HomePanelItem(
            title=page.title,
            url=page.url,
            meta=" · ".join(
                part
                for part in (page.doc_number, page.issued_on and f"{page.issued_on:%Y-%m-%d}")
                if part
            ),
        )
        for page in pages
    ]
    return HomePanel(
        title="政策法规 · 最近新增", items=items, more_url=reverse("policies:browse"), order=40
    )


@hooks.register("register_demo_loader")
def load_policy_demo(stdout):
    from .demo import load_demo_policies

    load_demo_policies(stdout)


@hooks.register("register_site_nav")
def policies_nav(request):
    if request.user.has_perm(READ_PERMISSION):
        return NavItem("政策法规", reverse("policies:browse"), order=20)
    return None
