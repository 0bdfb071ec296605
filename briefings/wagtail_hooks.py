from django.urls import reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from cms.home import HomePanel, HomePanelItem
from cms.nav import NavItem

from .models import MaterialType, RecipientGroup, ScheduledItem


class MaterialTypeViewSet(SnippetViewSet):
    model = MaterialType
    icon = "doc-full"
    menu_label = "资料类型"
    list_display = ["name", "kind", "cadence", "responsible_kind", "due_workdays", "is_active"]
    list_filter = ["kind", "cadence", "is_active"]
    search_fields = ["name"]
    panels = [
        "name",
        "code",
        "kind",
        "cadence",
        "responsible_kind",
        "responsible_department",
        "due_workdays",
        "is_briefing_issue",
        "default_recipient_groups",
        "default_recipient_departments",
        "is_active",
        "sort_order",
    ]


class RecipientGroupViewSet(SnippetViewSet):
    model = RecipientGroup
    icon = "group"
    menu_label = "印送对象"
    list_display = ["name", "sort_order"]
    search_fields = ["name"]
    panels = ["name", "members", "sort_order"]


class ScheduledItemViewSet(SnippetViewSet):
    model = ScheduledItem
    icon = "date"
    menu_label = "报送计划"
    list_display = ["title", "due_date", "due_provisional", "status", "is_late"]
    list_filter = ["status", "year", "material_type"]
    search_fields = ["title"]
    panels = [
        "material_type",
        "year",
        "period",
        "title",
        "period_start",
        "period_end",
        "due_date",
        "due_provisional",
        "note",
    ]


class BriefingsGroup(SnippetViewSetGroup):
    items = (MaterialTypeViewSet, RecipientGroupViewSet, ScheduledItemViewSet)
    menu_icon = "doc-full-inverse"
    menu_label = "工作资料"
    menu_name = "briefings"
    menu_order = 320


register_snippet(BriefingsGroup)


@hooks.register("register_site_nav")
def briefings_nav(request):
    from .services import may_manage
    from .subscriptions import may_subscribe
    from .uploads import UPLOAD_PERMISSION, pushed_items_for

    user = request.user
    if may_manage(user):
        return NavItem("工作资料", reverse("briefings:schedule"), order=50)
    if user.has_perm("cms.query_data"):
        from .models import BriefingIndexPage

        index = BriefingIndexPage.objects.live().first()
        if index is not None and index.url:
            return NavItem("工作资料", index.url, order=50)
        return None
    if user.has_perm(UPLOAD_PERMISSION) and pushed_items_for(user).exists():
        return NavItem("工作资料", reverse("briefings:uploads"), order=50)
    if may_subscribe(user):
        # a deputy's own account: the briefings sent to him or her, and the subscriptions
        from .models import BriefingIndexPage

        index = BriefingIndexPage.objects.live().first()
        url = index.url if index is not None and index.url else ""
        return NavItem("工作资料", url or reverse("briefings:subscriptions"), order=50)
    return None


@hooks.register("register_home_panel")
def due_items_panel(request):
    from .choices import ItemState
    from .services import item_state, items_in_state, may_manage, periods_in_review
    from .uploads import pushed_items_for

    user = request.user
    if may_manage(user):
        scope, more = None, reverse("briefings:schedule")
    elif user.has_perm("cms.upload_material") and pushed_items_for(user).exists():
        scope, more = pushed_items_for(user), reverse("briefings:uploads")
    else:
        return None
    today = timezone.localdate()
    overdue = list(items_in_state(ItemState.OVERDUE, today, scope)[:6])
    due = list(items_in_state(ItemState.DUE, today, scope)[:6])
    items = []
    in_review = periods_in_review()
    for item in overdue + due:
        state = item_state(item, today, in_review)
        items.append(
            HomePanelItem(
                title=item.title,
                url=more,
                meta=f"截止 {item.due_date:%Y-%m-%d}"
                + ("（暂定）" if item.due_provisional else "")
                + f" · {ItemState(state).label}",
                overdue=state == ItemState.OVERDUE,
            )
        )
    return HomePanel(title="工作资料 · 到期事项", items=items, more_url=more, order=30, kind="due")


@hooks.register("register_demo_loader")
def load_briefings_demo(stdout):
    from .demo import load_demo_briefings

    load_demo_briefings(stdout)
