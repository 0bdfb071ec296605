from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import UsageAction
from .services import record_usage


@receiver(user_logged_in, dispatch_uid="usage_login")
def on_login(sender, request, user, **kwargs):
    record_usage(request, UsageAction.LOGIN, user=user)


@receiver(user_logged_out, dispatch_uid="usage_logout")
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record_usage(request, UsageAction.LOGOUT, user=user)


@receiver(user_login_failed, dispatch_uid="usage_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    record_usage(
        request,
        UsageAction.LOGIN_FAILED,
        username=str(credentials.get("username", ""))[:150],
        detail="用户名或密码错误，或账户已停用",
    )
