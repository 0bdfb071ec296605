from django.db import models


class LetterKind(models.TextChoices):
    """What follows an alert, by its grade (domain.md §6)."""

    BULLETIN = "bulletin", "联网查询情况通报"  # 一般
    DEPARTMENT = "department", "函（致部门）"  # 重要
    GOVERNMENT = "government", "函（致县政府）"  # 重大


class LetterStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审批"
    APPROVED = "approved", "已签发"
    SENT = "sent", "已发出"
    ANSWERED = "answered", "已答复"
    CLOSED = "closed", "已办结"
    CANCELLED = "cancelled", "已作废"


class SignerCapacity(models.TextChoices):
    OFFICE_HEAD = "office_head", "预算工委负责同志"
    LEADER = "leader", "分管常委会领导"


class RenditionStatus(models.TextChoices):
    NONE = "", "未生成"
    PENDING = "pending", "生成中"
    DONE = "done", "已生成"
    FAILED = "failed", "生成失败"
