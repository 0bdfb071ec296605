from django.db import models


class ReviewStage(models.TextChoices):
    """The stages at which budget review opinions are collected (domain.md §4), in order."""

    RESEARCH = "research", "调研"
    PRE_REVIEW = "pre_review", "预审"
    FIRST_REVIEW = "first_review", "初审"
    STANDING_COMMITTEE = "standing", "常委会审议"
    CONGRESS = "congress", "大会审议"


class RaisedByKind(models.TextChoices):
    DEPUTY = "deputy", "代表"
    EXPERT = "expert", "预算审查专家"
    COMMITTEE = "committee", "委员会 / 工作机构"
    DELEGATION = "delegation", "代表团"


class HandlingStatus(models.TextChoices):
    """How the government side dealt with the opinion (处理情况)."""

    PENDING = "pending", "待反馈"
    ADOPTED = "adopted", "已采纳"
    PARTLY_ADOPTED = "partly", "部分采纳"
    EXPLAINED = "explained", "已作说明"
