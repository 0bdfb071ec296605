"""预算审议意见: opinions on the budget raised at 调研, 预审, 初审, 常委会审议 and 大会审议,
with the document that carries them (e.g. 大会简报第3期), the budget items they concern and
how the government answered. Searchable material for deputies (domain.md §4).

Only a name is kept for who raised an opinion (a deputy, an expert, a committee): never a
phone number, ID number, employer or address.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from wagtail.search import index

from .choices import HandlingStatus, RaisedByKind, ReviewStage


class ReviewOpinion(index.Indexed, models.Model):
    year = models.PositiveSmallIntegerField(
        "预算年度", db_index=True, help_text="审议的是哪一年的预算（或决算）"
    )
    stage = models.CharField("审议阶段", max_length=16, choices=ReviewStage.choices)
    title = models.CharField("意见要点", max_length=200)
    text = models.TextField("意见内容")
    source_title = models.CharField(
        "出处", max_length=100, blank=True, help_text="如：大会简报、初审意见、调研报告"
    )
    source_issue = models.PositiveSmallIntegerField(
        "期号", null=True, blank=True, help_text="简报期号，如第3期填 3"
    )
    raised_on = models.DateField("提出日期", null=True, blank=True)
    raised_by_kind = models.CharField(
        "提出方", max_length=16, choices=RaisedByKind.choices, default=RaisedByKind.DEPUTY
    )
    raised_by = models.CharField(
        "提出者",
        max_length=100,
        help_text="代表姓名或委员会名称；不填写电话、身份证号、工作单位、住址等个人信息",
    )
    subjects = models.ManyToManyField(
        "budget.Subject",
        verbose_name="相关科目",
        blank=True,
        related_name="review_opinions",
        help_text="涉及的收支科目（按年度）",
    )
    departments = models.ManyToManyField(
        "budget.Department",
        verbose_name="相关预算单位",
        blank=True,
        related_name="review_opinions",
    )
    handling_status = models.CharField(
        "处理情况", max_length=16, choices=HandlingStatus.choices, default=HandlingStatus.PENDING
    )
    response = models.TextField("反馈 / 处理说明", blank=True)
    responded_on = models.DateField("反馈日期", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    search_fields = [
        index.SearchField("title", boost=2),
        index.AutocompleteField("title"),
        index.SearchField("text"),
        index.SearchField("response"),
        index.SearchField("source_label"),
        index.SearchField("raised_by"),
        index.FilterField("year"),
        index.FilterField("stage"),
    ]

    class Meta:
        verbose_name = "预算审议意见"
        verbose_name_plural = "预算审议意见"
        ordering = ["-year", "stage", "-raised_on", "pk"]
        indexes = [models.Index(fields=["year", "stage"])]

    def __str__(self):
        return f"{self.year}年 {self.get_stage_display()}：{self.title}"

    def get_absolute_url(self) -> str:
        return reverse("review_opinions:detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.source_issue is not None and not self.source_title:
            raise ValidationError({"source_title": "填写了期号时请同时填写出处（如：大会简报）"})
        if self.responded_on and self.raised_on and self.responded_on < self.raised_on:
            raise ValidationError({"responded_on": "反馈日期不能早于提出日期"})
        if self.handling_status != HandlingStatus.PENDING and not self.response.strip():
            raise ValidationError({"response": "已反馈的意见请填写反馈 / 处理说明"})

    @property
    def source_label(self) -> str:
        """大会简报第3期"""
        if self.source_issue:
            return f"{self.source_title}第{self.source_issue}期"
        return self.source_title

    @property
    def stage_order(self) -> int:
        return list(ReviewStage.values).index(self.stage)
