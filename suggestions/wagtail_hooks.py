"""Admin screens for the per-term data and the deputies' register, the home panels, the
site navigation entry and the demo loader of 代表建议."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from cms.home import HomePanel, HomePanelItem
from cms.nav import NavItem
from cms.personal import PERMISSION as PERSONAL_PERMISSION

from . import services
from .choices import Status
from .models import AnswerClass, Category, Deputy, Session, Term

HOME_PANEL_SIZE = 6
# how far ahead a liaison's home panel looks for answers falling due
LIAISON_HORIZON_DAYS = getattr(settings, "SUGGESTIONS_LIAISON_HORIZON_DAYS", 30)


class TermViewSet(SnippetViewSet):
    model = Term
    icon = "date"
    menu_label = "届次"
    list_display = ["__str__", "start_date", "end_date", "is_current"]
    panels = [
        FieldPanel("number"),
        FieldRowPanel([FieldPanel("start_date"), FieldPanel("end_date")]),
        FieldPanel("is_current"),
    ]


class SessionViewSet(SnippetViewSet):
    model = Session
    icon = "calendar"
    menu_label = "会次"
    list_display = ["__str__", "start_date", "end_date", "cosign_deadline"]
    list_filter = ["term"]


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "tag"
    menu_label = "建议分类"
    list_display = ["name", "term", "sort_order"]
    list_filter = ["term"]


class AnswerClassViewSet(SnippetViewSet):
    model = AnswerClass
    icon = "list-ul"
    menu_label = "答复类别"
    list_display = ["__str__", "term", "needs_follow_up", "counts_as_resolved"]
    list_filter = ["term"]


class DeputyViewSet(SnippetViewSet):
    """The register of deputies. The contact fields are in the form only for 系统管理员
    (FieldPanel permission); the listing and search never show them."""

    model = Deputy
    icon = "user"
    menu_label = "代表名册"
    list_display = ["name", "delegation", "is_active"]
    list_filter = ["delegation", "is_active", "terms"]
    search_fields = ["name", "delegation"]
    inspect_view_enabled = False
    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("delegation")]),
        FieldPanel("terms"),
        FieldPanel("user"),
        FieldPanel("is_active"),
        MultiFieldPanel(
            [
                FieldPanel("phone", permission=PERSONAL_PERMISSION),
                FieldPanel("id_number", permission=PERSONAL_PERMISSION),
                FieldPanel("employer", permission=PERSONAL_PERMISSION),
                FieldPanel("address", permission=PERSONAL_PERMISSION),
            ],
            heading="联系方式（仅系统管理员可见）",
            permission=PERSONAL_PERMISSION,
        ),
    ]


class SuggestionsAdminGroup(SnippetViewSetGroup):
    menu_label = "代表建议"
    menu_icon = "openquote"
    menu_order = 320
    items = (TermViewSet, SessionViewSet, CategoryViewSet, AnswerClassViewSet, DeputyViewSet)


hooks.register("register_admin_viewset", SuggestionsAdminGroup)


@hooks.register("register_site_nav")
def suggestions_nav(request):
    user = request.user
    if services.is_staff(user):
        return NavItem("代表建议", reverse("suggestions:list"), order=45)
    if services.is_deputy_account(user):
        return NavItem("代表建议", reverse("suggestions:mine"), order=45)
    if services.is_liaison(user):
        return NavItem("代表建议", reverse("suggestions:department"), order=45)
    return None


def _item(s, url, today):
    due = s.effective_due_on
    late = services.is_overdue(s, today)
    meta = s.get_status_display()
    if due and s.status in (
        Status.ASSIGNED,
        Status.HANDLING,
        Status.RETURN_REQUESTED,
        Status.REHANDLING,
    ):
        meta += f" · {'已逾期 · ' if late else ''}期限 {due:%Y-%m-%d}"
    return HomePanelItem(title=f"{s.code} {s.title}", url=url, meta=meta, overdue=late)


@hooks.register("register_home_panel")
def my_suggestions_panel(request):
    """代表: my suggestions, those waiting for my evaluation first."""
    deputy = services.deputy_of(request.user)
    if deputy is None:
        return None
    today = timezone.localdate()
    qs = services.visible_to(request.user).filter(lead_deputy=deputy) | services.visible_to(
        request.user
    ).filter(co_signers=deputy)
    items = sorted(
        qs.distinct().select_related("term", "session"),
        key=lambda s: (s.status != Status.ANSWERED, -s.pk),
    )[:HOME_PANEL_SIZE]
    panel_items = [_item(s, services.deputy_url(s), today) for s in items]
    for item, s in zip(panel_items, items, strict=True):
        if s.status == Status.ANSWERED and s.lead_deputy_id == deputy.pk:
            item.meta = "已答复 · 请评价"
    return HomePanel(
        title="我的建议", items=panel_items, more_url=reverse("suggestions:mine"), order=25
    )


@hooks.register("register_home_panel")
def overdue_suggestions_panel(request):
    """工作人员: answers overdue; 联络员: my units' overdue or soon-due items."""
    user = request.user
    today = timezone.localdate()
    if services.is_staff(user):
        qs = services.overdue(today).select_related("term", "session").order_by("due_on")
        total = qs.count()
        items = [_item(s, s.get_absolute_url(), today) for s in qs[:HOME_PANEL_SIZE]]
        return HomePanel(
            title=f"代表建议逾期未答复（{total} 件）",
            items=items,
            more_url=reverse("suggestions:list") + "?overdue=1",
            order=22,
            kind="due",
        )
    if services.is_liaison(user):
        visible = services.visible_to(user)
        qs = (
            (services.overdue(today) | services.due_soon(today, days=LIAISON_HORIZON_DAYS))
            .filter(pk__in=visible.values("pk"))
            .select_related("term", "session")
            .order_by("due_on")
        )
        items = [_item(s, services.department_url(s), today) for s in qs[:HOME_PANEL_SIZE]]
        return HomePanel(
            title="本单位待答复的代表建议",
            items=items,
            more_url=reverse("suggestions:department") + "?status=open",
            order=22,
            kind="due",
        )
    return None


@hooks.register("register_demo_loader")
def load_suggestions_demo(stdout):
    from .demo import load_demo

    load_demo(stdout)
