"""预警函件 in the site: navigation, home panel, the approver register in the admin, demo data."""

from django.urls import reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from budget.departments import department_ids_for, is_department_scoped
from cms.home import HomePanel, HomePanelItem
from cms.nav import NavItem

from . import services
from .choices import LetterStatus
from .models import Letter, LetterSigner


class LetterSignerViewSet(SnippetViewSet):
    model = LetterSigner
    icon = "user"
    menu_label = "函件审批人"
    menu_name = "letter_signers"
    menu_order = 330
    add_to_admin_menu = True
    list_display = ["user", "capacity", "is_active", "note"]
    list_filter = ["capacity", "is_active"]


register_snippet(LetterSignerViewSet)


@hooks.register("register_site_nav")
def letters_nav(request):
    user = request.user
    if services.can_draft(user) or services.capacities(user):
        return NavItem("预警函件", reverse("letters:list"), order=48)
    if is_department_scoped(user) and department_ids_for(user):
        return NavItem("本单位函件", reverse("letters:list"), order=48)
    return None


@hooks.register("register_home_panel")
def letters_panel(request):
    """Letters waiting for this user: to sign (signers), answers overdue (owners),
    answers due (a liaison's department)."""
    user = request.user
    if not user.is_authenticated:
        return None
    today = timezone.localdate()
    items = []
    capacities = services.capacities(user)
    if capacities:
        kinds = [k for k, c in services.APPROVER_FOR_KIND.items() if c in capacities]
        for letter in Letter.objects.filter(status=LetterStatus.SUBMITTED, kind__in=kinds)[:10]:
            items.append(
                HomePanelItem(title=f"待签发：{letter.title}", url=letter.get_absolute_url())
            )
    visible = services.letters_for(user).filter(status=LetterStatus.SENT)
    if services.can_draft(user):
        visible = visible.filter(owner=user)
    for letter in visible.order_by("answer_due")[:10]:
        overdue = bool(letter.answer_due and letter.answer_due < today)
        items.append(
            HomePanelItem(
                title=letter.title,
                url=letter.get_absolute_url(),
                meta=(
                    f"{'已逾期 · ' if overdue else ''}"
                    f"{'' if letter.received_on else '待签收 · 估'}答复期限 "
                    f"{letter.answer_due:%m-%d}"
                    f"{'（暂定）' if letter.answer_due_provisional else ''}"
                    if letter.answer_due
                    else "待签收"
                ),
                overdue=overdue,
            )
        )
    if not items:
        return None
    return HomePanel(
        title="预警函件", items=items, more_url=reverse("letters:list"), order=32, kind="due"
    )


@hooks.register("register_demo_loader")
def load_letters_demo(stdout):
    from .demo import load_demo

    load_demo(stdout)
