"""Models that exist only for the search backend tests.

They mirror the project's content: a policy document with a 文号, issuer, effect
level and status, and a second, smaller model so multi-model search can be tested.
"""

from django.db import models
from modelsearch import index


class EffectLevel(models.TextChoices):
    LAW = "法律", "法律"
    ADMIN_REGULATION = "行政法规", "行政法规"
    LOCAL_REGULATION = "地方性法规", "地方性法规"
    DEPARTMENT_RULE = "部门规章", "部门规章"
    NORMATIVE = "规范性文件", "规范性文件"
    INTERNAL = "内部制度", "内部制度"


class Status(models.TextChoices):
    IN_FORCE = "现行有效", "现行有效"
    REVISED = "已修订", "已修订"
    REPEALED = "已废止", "已废止"
    NOT_YET = "尚未生效", "尚未生效"


class Document(index.Indexed, models.Model):
    title = models.CharField("标题", max_length=255)
    body = models.TextField("正文", blank=True)
    doc_number = models.CharField("文号", max_length=100, blank=True)
    issuer = models.CharField("发文机关", max_length=100, blank=True)
    year = models.PositiveIntegerField("年份", null=True, blank=True)
    effect_level = models.CharField(
        "效力级别", max_length=20, choices=EffectLevel.choices, default=EffectLevel.NORMATIVE
    )
    status = models.CharField(
        "时效性", max_length=20, choices=Status.choices, default=Status.IN_FORCE
    )
    published = models.BooleanField("已发布", default=True)
    restricted = models.BooleanField("受限", default=False)

    search_fields = [
        index.SearchField("title", boost=3),
        index.SearchField("doc_number", boost=2),
        index.SearchField("body"),
        index.AutocompleteField("title"),
        index.AutocompleteField("doc_number"),
        index.FilterField("year"),
        index.FilterField("issuer"),
        index.FilterField("effect_level"),
        index.FilterField("status"),
        index.FilterField("published"),
        index.FilterField("restricted"),
    ]

    class Meta:
        verbose_name = "测试文件"
        ordering = ["pk"]

    def __str__(self):
        return self.title


class Note(index.Indexed, models.Model):
    """A second searchable model (a short working note) for multi-model search."""

    title = models.CharField("标题", max_length=255)
    content = models.TextField("内容", blank=True)
    author = models.CharField("作者", max_length=50, blank=True)

    search_fields = [
        index.SearchField("title", boost=2),
        index.SearchField("content"),
        index.AutocompleteField("title"),
        index.FilterField("author"),
    ]

    class Meta:
        verbose_name = "测试笔记"
        ordering = ["pk"]

    def __str__(self):
        return self.title
