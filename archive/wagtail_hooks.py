from django.urls import reverse
from django.utils.http import urlencode
from wagtail import hooks
from wagtail.admin.action_menu import ActionMenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from cms.home import HomePanel, HomePanelItem
from cms.nav import NavItem

from .models import FILE_PERMISSION, READ_PERMISSION, ArchiveClass, ArchiveItem, RetentionRule


class RetentionRuleViewSet(SnippetViewSet):
    model = RetentionRule
    icon = "time"
    menu_label = "保管期限表"
    list_display = ["record_type", "label", "retention", "default_class"]
    panels = ["record_type", "label", "retention", "default_class", "note"]


class ArchiveClassViewSet(SnippetViewSet):
    model = ArchiveClass
    icon = "tag"
    menu_label = "机构（问题）代码"
    list_display = ["code", "name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    panels = ["code", "name", "kind", "is_active"]


class ArchiveViewSetGroup(SnippetViewSetGroup):
    menu_label = "立卷归档"
    menu_icon = "folder-inverse"
    menu_order = 400
    items = (RetentionRuleViewSet, ArchiveClassViewSet)


register_snippet(ArchiveViewSetGroup)


@hooks.register("register_site_nav")
def archive_nav(request):
    if request.user.has_perm(FILE_PERMISSION) or request.user.has_perm(READ_PERMISSION):
        return NavItem("立卷归档", reverse("archive:index"), order=80)
    return None


@hooks.register("register_home_panel")
def archive_panel(request):
    if not request.user.has_perm(FILE_PERMISSION):
        return None
    from .services import due_for_appraisal
    from .sources import unfiled_candidates

    items = [
        HomePanelItem(
            title="可归档材料",
            url=reverse("archive:candidates"),
            meta=f"{len(unfiled_candidates())} 件",
        ),
        HomePanelItem(
            title="保管期满待鉴定",
            url=reverse("archive:review"),
            meta=f"{len(due_for_appraisal())} 件",
        ),
        HomePanelItem(
            title="归档文件目录",
            url=reverse("archive:catalogue"),
            meta=f"已归档 {ArchiveItem.objects.filed().count()} 件",
        ),
    ]
    if request.user.has_perm("cms.run_backups"):
        from .backup import read_history

        last = next((h for h in read_history(limit=50) if h.get("status") == "ok"), None)
        items.append(
            HomePanelItem(
                title="系统备份",
                url=reverse("archive_backup:list"),
                meta=f"最近一次成功：{last.get('name', '')}" if last else "尚无成功的备份",
            )
        )
    return HomePanel(title="立卷归档", items=items, more_url=reverse("archive:index"), order=70)


class FilePolicyMenuItem(ActionMenuItem):
    label = "归档"
    name = "action-archive"
    icon_name = "folder-inverse"

    def is_shown(self, context):
        from policies.models import PolicyPage

        page = context.get("page")
        return (
            context.get("view") == "edit"
            and isinstance(page, PolicyPage)
            and page.live
            and context["request"].user.has_perm(FILE_PERMISSION)
        )

    def get_url(self, parent_context):
        page = parent_context["page"]
        query = urlencode({"source": "policies.policypage", "source_id": page.pk})
        return f"{reverse('archive:file')}?{query}"


@hooks.register("register_page_action_menu_item")
def file_policy_menu_item():
    return FilePolicyMenuItem(order=900)


@hooks.register("register_demo_loader")
def load_archive_demo(stdout):
    from .demo import load_demo

    load_demo(stdout)
