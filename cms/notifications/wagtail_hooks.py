from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from wagtail import hooks

from cms.home import HomePanel, HomePanelItem

from .models import Message
from .services import notify

HOME_PANEL_SIZE = 5
WELCOME_CATEGORY = "welcome"


@hooks.register("register_home_panel")
def unread_messages_panel(request):
    user = request.user
    if not user.is_authenticated:
        return None
    latest = list(
        Message.objects.for_user(user).unread().order_by("-created_at", "-id")[:HOME_PANEL_SIZE]
    )
    if not latest:
        return None
    return HomePanel(
        title="未读消息",
        items=[
            HomePanelItem(
                title=m.subject,
                url=reverse("notifications:open", args=[m.pk]),
                meta=timezone.localtime(m.created_at).strftime("%m-%d %H:%M"),
            )
            for m in latest
        ],
        more_url=reverse("notifications:inbox"),
        order=20,
    )


@hooks.register("register_demo_loader")
def load_demo_welcome_messages(stdout):
    """Each demo account gets one welcome message (once, however often this runs)."""
    from cms.demo import DEMO_ACCOUNTS

    usernames = [row[0] for row in DEMO_ACCOUNTS]
    people = get_user_model().objects.filter(username__in=usernames, is_active=True)
    welcomed = set(
        Message.objects.filter(category=WELCOME_CATEGORY, recipient__in=people).values_list(
            "recipient_id", flat=True
        )
    )
    new = [user for user in people if user.pk not in welcomed]
    for user in new:
        notify(
            [user],
            "欢迎使用预算联网监督文档与知识库",
            body=(
                "系统的通知会出现在这里：简报发布、建议交办、预警处理、办理期限临近等。"
                "有电子邮箱的账户同时会收到邮件。\n"
                "工作日历页面可以查看节假日安排，并按工作日计算办理期限。"
            ),
            url=reverse("workdays:calendar"),
            category=WELCOME_CATEGORY,
        )
    if stdout is not None and new:
        stdout.write(f"站内消息：向 {len(new)} 个演示账户发送了欢迎消息\n")
