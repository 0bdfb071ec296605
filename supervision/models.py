"""监督事项: government debt (政府债务) — limits and balances per year, bonds, repayments — and
the import batches they came from.

Amounts are exact decimals in 元 with two places, as in budget/; pages show 万元.
"""

from django.conf import settings
from django.db import models

from .choices import BondType, DebtCategory, ImportKind

AMOUNT = {"max_digits": 18, "decimal_places": 2}


class SupervisionBatch(models.Model):
    """One import of supervision data: the file, its digest, who and when, what changed."""

    kind = models.CharField("数据类型", max_length=16, choices=ImportKind.choices)
    filename = models.CharField("文件名", max_length=255)
    file = models.FileField("原始文件", upload_to="supervision/imports/%Y/%m/", blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_by_name = models.CharField("导入人账号", max_length=150, blank=True)
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)
    rows = models.PositiveIntegerField("行数", default=0)
    changes = models.JSONField("变化", default=dict, blank=True)

    class Meta:
        verbose_name = "监督数据导入批次"
        verbose_name_plural = "监督数据导入批次"
        ordering = ["-imported_at", "-id"]

    def __str__(self):
        return f"第{self.pk}批 {self.get_kind_display()} {self.filename}"


class DebtYear(models.Model):
    """The county's inputs to the debt indicators for one year."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    capacity = models.DecimalField("综合财力（元）", null=True, blank=True, **AMOUNT)
    expenditure = models.DecimalField(
        "一般公共预算和政府性基金预算支出（元）", null=True, blank=True, **AMOUNT
    )
    batch = models.ForeignKey(
        SupervisionBatch, verbose_name="导入批次", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "债务指标基数"
        verbose_name_plural = "债务指标基数"
        ordering = ["year"]

    def __str__(self):
        return f"{self.year}年债务指标基数"


class DebtPosition(models.Model):
    """限额 and 余额 of one category of debt at the end of one year."""

    year = models.PositiveSmallIntegerField("年度")
    category = models.CharField("债务类型", max_length=16, choices=DebtCategory.choices)
    limit = models.DecimalField("债务限额（元）", **AMOUNT)
    balance = models.DecimalField("债务余额（元）", **AMOUNT)
    batch = models.ForeignKey(
        SupervisionBatch, verbose_name="导入批次", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "债务限额余额"
        verbose_name_plural = "债务限额余额"
        ordering = ["year", "category"]
        constraints = [
            models.UniqueConstraint(fields=["year", "category"], name="supervision_position_unique")
        ]

    def __str__(self):
        return f"{self.year} {self.get_category_display()}"


class Bond(models.Model):
    """One government bond the county holds (its share of a provincial issue)."""

    code = models.CharField("债券编码", max_length=40, unique=True)
    name = models.CharField("债券名称", max_length=200)
    category = models.CharField("债务类型", max_length=16, choices=DebtCategory.choices)
    bond_type = models.CharField("债券类型", max_length=16, choices=BondType.choices)
    issue_date = models.DateField("发行日期")
    amount = models.DecimalField("发行金额（元）", **AMOUNT)
    rate = models.DecimalField("票面利率（%）", max_digits=7, decimal_places=4)
    term_years = models.PositiveSmallIntegerField("期限（年）")
    maturity_date = models.DateField("到期日期", db_index=True)
    use_of_proceeds = models.CharField("资金用途", max_length=300, blank=True)
    project = models.CharField("项目名称", max_length=200, blank=True)
    repayment_source = models.CharField("偿还资金来源", max_length=200, blank=True)
    batch = models.ForeignKey(
        SupervisionBatch, verbose_name="导入批次", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "政府债券"
        verbose_name_plural = "政府债券"
        ordering = ["maturity_date", "code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Repayment(models.Model):
    """还本付息: principal and interest paid on a bond on one date."""

    bond = models.ForeignKey(
        Bond, verbose_name="债券", on_delete=models.PROTECT, related_name="repayments"
    )
    date = models.DateField("支付日期")
    principal = models.DecimalField("偿还本金（元）", default=0, **AMOUNT)
    interest = models.DecimalField("支付利息（元）", default=0, **AMOUNT)
    source = models.CharField("资金来源", max_length=200, blank=True)
    batch = models.ForeignKey(
        SupervisionBatch, verbose_name="导入批次", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "还本付息"
        verbose_name_plural = "还本付息"
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["date"], name="supervision_repayment_date")]
        constraints = [
            models.UniqueConstraint(fields=["bond", "date"], name="supervision_repayment_unique")
        ]

    def __str__(self):
        return f"{self.bond_id} {self.date}"
