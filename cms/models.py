from django.contrib.auth.models import AbstractUser
from django.db import models
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.models import Page

from .roles import CAPABILITIES


class User(AbstractUser):
    """An account of the system; its role is the Wagtail group it belongs to."""

    display_name = models.CharField("姓名", max_length=50, blank=True)
    organisation = models.CharField("工作单位/部门", max_length=100, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        permissions = CAPABILITIES

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username

    def get_full_name(self):
        return self.display_name or super().get_full_name() or self.username

    def get_short_name(self):
        return self.display_name or self.username


# Fields of people that only 系统管理员 may see (domain.md §1).
User.personal_detail_fields = ("phone",)


@register_setting(icon="cog")
class SystemSettings(BaseGenericSetting):
    """Settings staff change in the admin (系统设置)."""

    site_name = models.CharField("系统名称", max_length=100, default="预算联网监督 · 文档与知识库")
    county_name = models.CharField("县（区）名称", max_length=50, default="元江县")
    office_name = models.CharField(
        "主管机构", max_length=100, default="元江县人大常委会预算工作委员会"
    )

    class Meta:
        verbose_name = "系统设置"


class HomePage(Page):
    """The site's front page: what is due for me, what is new, a search box."""

    intro = models.TextField("导语", blank=True)

    content_panels = Page.content_panels + ["intro"]
    max_count = 1

    class Meta:
        verbose_name = "首页"

    def get_context(self, request, *args, **kwargs):
        from .demo import pending_steps
        from .home import panels_for

        context = super().get_context(request, *args, **kwargs)
        context["panels"] = panels_for(request)
        context["demo_pending"] = pending_steps()  # what the worker still prepares (make run)
        return context
