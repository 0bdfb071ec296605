"""国有资产: the figures of the annual state-asset report (国有资产管理情况综合报告) —
行政事业性国有资产 per year and unit, 企业国有资产 per year and enterprise.

Amounts are exact decimals in 元 like the debt tables; pages and templates use 万元. Rows come
only from imports (supervision.importing); each row names the batch that last wrote it.
"""

from django.db import models

from .models import AMOUNT, SupervisionBatch


class UnitAssets(models.Model):
    """One 行政事业单位's assets at the end of one year."""

    year = models.PositiveSmallIntegerField("年度", db_index=True)
    code = models.CharField("单位编码", max_length=40, blank=True)
    name = models.CharField("单位名称", max_length=200)
    total_assets = models.DecimalField("资产总额（元）", **AMOUNT)
    total_liabilities = models.DecimalField("负债总额（元）", **AMOUNT)
    net_assets = models.DecimalField("净资产（元）", **AMOUNT)
    fixed_assets = models.DecimalField("其中：固定资产（元）", default=0, **AMOUNT)
    land = models.DecimalField("其中：土地（元）", null=True, blank=True, **AMOUNT)
    vehicles = models.PositiveIntegerField("车辆（辆）", null=True, blank=True)
    vehicles_value = models.DecimalField("车辆金额（元）", null=True, blank=True, **AMOUNT)
    batch = models.ForeignKey(
        SupervisionBatch, verbose_name="导入批次", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "行政事业性国有资产"
        verbose_name_plural = "行政事业性国有资产"
        ordering = ["year", "code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["year", "name"], name="supervision_unitassets_unique")
        ]
        # the page's per-unit table, a page at a time in this order
        indexes = [models.Index(fields=["year", "code", "name"], name="supervision_unit_order")]

    def __str__(self):
        return f"{self.year} {self.name}"


class EnterpriseAssets(models.Model):
    """One state-owned enterprise's assets and results for one year."""

    year = models.PositiveSmallIntegerField("年度", db_index=True)
    code = models.CharField("统一社会信用代码", max_length=40, blank=True)
    name = models.CharField("企业名称", max_length=200)
    total_assets = models.DecimalField("资产总额（元）", **AMOUNT)
    total_liabilities = models.DecimalField("负债总额（元）", **AMOUNT)
    equity = models.DecimalField("所有者权益（元）", **AMOUNT)
    revenue = models.DecimalField("营业收入（元）", default=0, **AMOUNT)
    profit = models.DecimalField("利润总额（元）", default=0, **AMOUNT)
    batch = models.ForeignKey(
        SupervisionBatch, verbose_name="导入批次", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "企业国有资产"
        verbose_name_plural = "企业国有资产"
        ordering = ["year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "name"], name="supervision_enterpriseassets_unique"
            )
        ]
        indexes = [models.Index(fields=["year", "code", "name"], name="supervision_soe_order")]

    def __str__(self):
        return f"{self.year} {self.name}"
