"""Holiday notices (国务院放假通知) and per-date overrides staff enter in the admin.

The chinesecalendar package knows the years it was released for; a year it does
not know becomes authoritative once staff enter its notice here. Overrides win
over the package in every year (a local holiday, a late change to a notice).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", "放假"
    WORKDAY = "workday", "调休上班"


def _date_outside_year(d, year) -> str:
    return f"日期 {d:%Y-%m-%d} 不在所属通知的年度（{year}年）内。"


class HolidayNoticeForm(WagtailAdminModelForm):
    """Checks that every date entered under a notice lies in the notice's year."""

    def is_valid(self):
        valid = super().is_valid()
        year = getattr(self, "cleaned_data", {}).get("year")
        if not year:
            return valid
        for form in self.formsets["overrides"].forms:
            data = getattr(form, "cleaned_data", None) or {}
            day = data.get("date")
            if day and not data.get("DELETE") and day.year != year:
                form.add_error("date", _date_outside_year(day, year))
                valid = False
        return valid


class HolidayNotice(ClusterableModel):
    """One year's holiday notice; its presence marks the year as no longer provisional."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    title = models.CharField(
        "通知标题", max_length=200, help_text="例如：国务院办公厅关于2027年部分节假日安排的通知"
    )
    reference = models.CharField(
        "文号", max_length=100, blank=True, help_text="例如：国办发明电〔2026〕7号"
    )
    published_on = models.DateField("发布日期", null=True, blank=True)
    note = models.TextField("备注", blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_at = models.DateTimeField("录入时间", auto_now_add=True)

    base_form_class = HolidayNoticeForm
    panels = [
        FieldRowPanel(["year", "published_on"]),
        FieldPanel("title"),
        FieldPanel("reference"),
        FieldPanel("note"),
        InlinePanel("overrides", heading="放假与调休上班日期", label="日期"),
    ]

    class Meta:
        verbose_name = "放假通知"
        verbose_name_plural = "放假通知"
        ordering = ["-year"]

    def __str__(self):
        return f"{self.year}年 {self.title}"

    def clean(self):
        super().clean()
        if self.year and not 2000 <= self.year <= 2100:
            raise ValidationError({"year": "年度应在 2000 至 2100 之间。"})


class DayOverride(models.Model):
    """A date whose status differs from what the package (or the weekend rule) says."""

    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=10, choices=DayKind.choices)
    name = models.CharField("名称", max_length=50, blank=True, help_text="例如：春节、国庆节")
    notice = ParentalKey(
        HolidayNotice,
        verbose_name="所属放假通知",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="overrides",
    )

    panels = [
        FieldRowPanel(["date", "kind"]),
        FieldPanel("name"),
        FieldPanel("notice"),
    ]

    class Meta:
        verbose_name = "节假日调整"
        verbose_name_plural = "节假日调整"
        ordering = ["date"]

    def __str__(self):
        label = self.name or ""
        return f"{self.date:%Y-%m-%d} {label}{self.get_kind_display()}"

    def clean(self):
        super().clean()
        # In the notice's inline form the parent may be unsaved, so look at the object.
        notice = self.notice
        if notice is not None and notice.year and self.date and notice.year != self.date.year:
            raise ValidationError({"date": _date_outside_year(self.date, notice.year)})
