"""Choices of the policy library (domain.md §3)."""

from django.db import models

from . import detection


class EffectLevel(models.TextChoices):
    LAW = detection.LEVEL_LAW, "法律"
    ADMIN_REGULATION = detection.LEVEL_ADMIN_REGULATION, "行政法规"
    LOCAL_REGULATION = detection.LEVEL_LOCAL_REGULATION, "地方性法规"
    DEPARTMENT_RULE = detection.LEVEL_DEPARTMENT_RULE, "部门规章"
    NORMATIVE = detection.LEVEL_NORMATIVE, "规范性文件"
    INTERNAL = detection.LEVEL_INTERNAL, "内部制度"


class Validity(models.TextChoices):
    CURRENT = "current", "现行有效"
    REVISED = "revised", "已修订"
    REPEALED = "repealed", "已废止"
    PENDING = "pending", "尚未生效"


class RelationKind(models.TextChoices):
    REVISES = "revises", "修订"  # this document is a revision of the target
    REPEALS = "repeals", "废止"  # this document repeals the target
    BASIS = "basis", "依据"  # this document is made on the basis of the target


class IngestStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    PROCESSING = "processing", "处理中"
    CREATED = "created", "已导入"
    DUPLICATE = "duplicate", "重复"
    ERROR = "error", "失败"
