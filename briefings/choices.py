"""The small vocabularies of working materials (工作资料)."""

from django.db import models


class Cadence(models.TextChoices):
    MONTHLY = "monthly", "每月"
    QUARTERLY = "quarterly", "每季度"
    HALF_YEAR = "half_year", "每半年"
    ANNUAL = "annual", "每年"
    AD_HOC = "ad_hoc", "不定期"


class MaterialKind(models.TextChoices):
    BRIEFING = "briefing", "本委简报/报告"
    PUSHED = "pushed", "部门报送材料"


class ResponsibleKind(models.TextChoices):
    STAFF = "staff", "本委工作人员"
    DEPARTMENT = "department", "报送单位"


class ItemStatus(models.TextChoices):
    OPEN = "open", "待完成"
    DONE = "done", "已完成"
    CANCELLED = "cancelled", "已取消"


class ItemState(models.TextChoices):
    """What the schedule list shows: derived from status, due date and today."""

    UPCOMING = "upcoming", "未到期"
    DUE = "due", "即将到期"
    IN_REVIEW = "in_review", "审核中"  # the period's briefing waits for the head's approval
    OVERDUE = "overdue", "已逾期"
    DONE = "done", "已完成"
    CANCELLED = "cancelled", "已取消"


class RenditionKind(models.TextChoices):
    DOCX = "docx", "Word（DOCX）"
    PDF = "pdf", "PDF"


class RenditionStatus(models.TextChoices):
    OK = "ok", "已生成"
    FAILED = "failed", "生成失败"


class SubscriptionChannel(models.TextChoices):
    """How a subscribed kind of material reaches a reader."""

    INBOX = "inbox", "站内消息"
    EMAIL = "email", "电子邮件"


class SubscriptionStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", "已订阅"
    UNSUBSCRIBED = "unsubscribed", "未订阅"
