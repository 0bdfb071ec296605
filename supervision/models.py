"""监督事项: government debt (政府债务) — limits and balances per year, bonds, repayments — and
the import batches they came from; audit findings (审计查出问题) and their rectification.

Amounts are exact decimals in 元 with two places, as in budget/; pages show 万元.
"""

from django.conf import settings
from django.db import models

from cms.usage.models import AppendOnlyModel, StepEvent

from .choices import BondType, DebtCategory, ImportKind, RectificationMode, RectificationStatus

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


# --- audit rectification (审计整改) -------------------------------------------------------------


class AuditFinding(models.Model):
    """审计查出问题: one problem from an audit report, the unit responsible and what it must do."""

    year = models.PositiveSmallIntegerField("年度", db_index=True)
    source_report = models.CharField("来源报告", max_length=200)
    number = models.CharField("问题编号", max_length=30, blank=True)
    problem = models.TextField("问题")
    amount = models.DecimalField("涉及金额（元）", null=True, blank=True, **AMOUNT)
    department = models.ForeignKey(
        "budget.Department",
        verbose_name="责任单位",
        on_delete=models.PROTECT,
        related_name="audit_findings",
    )
    requirement = models.TextField("整改要求")
    mode = models.CharField(
        "整改方式",
        max_length=16,
        choices=RectificationMode.choices,
        default=RectificationMode.IMMEDIATE,
    )
    deadline = models.DateField("整改期限")
    status = models.CharField(
        "整改状态",
        max_length=16,
        choices=RectificationStatus.choices,
        default=RectificationStatus.NONE,
        db_index=True,
    )
    recovered = models.DecimalField("已追回或上缴金额（元）", default=0, **AMOUNT)
    corrected = models.DecimalField("已调账或归还原资金渠道金额（元）", default=0, **AMOUNT)
    overdue_notified_on = models.DateField("逾期提醒日期", null=True, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "审计查出问题"
        verbose_name_plural = "审计查出问题"
        ordering = ["year", "deadline", "id"]
        # the register's list is by deadline, optionally of one status or one year
        indexes = [
            models.Index(fields=["deadline", "id"], name="supervision_finding_deadline"),
            models.Index(fields=["status", "deadline", "id"], name="supervision_finding_status"),
            models.Index(fields=["year", "deadline", "id"], name="supervision_finding_year"),
        ]

    def __str__(self):
        return f"{self.year} {self.number} {self.problem[:40]}"

    @property
    def rectified_amount(self):
        return self.recovered + self.corrected

    def is_overdue(self, today=None) -> bool:
        from django.utils import timezone

        today = today or timezone.localdate()
        return self.status != RectificationStatus.DONE and self.deadline < today


class RectificationReport(AppendOnlyModel):
    """整改情况报告: one progress report on a finding, with its amounts and evidence; kept
    as filed (append-only). The finding's status moves with it (services.TRANSITIONS)."""

    finding = models.ForeignKey(
        AuditFinding,
        verbose_name="审计查出问题",
        on_delete=models.PROTECT,
        related_name="reports",
    )
    reported_at = models.DateTimeField("报告时间", auto_now_add=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报告人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    progress = models.TextField("整改进展")
    recovered = models.DecimalField("本次追回或上缴金额（元）", default=0, **AMOUNT)
    corrected = models.DecimalField("本次调账或归还原资金渠道金额（元）", default=0, **AMOUNT)
    status = models.CharField("报告后状态", max_length=16, choices=RectificationStatus.choices)
    evidence = models.FileField("佐证材料", upload_to="supervision/evidence/%Y/%m/", blank=True)
    evidence_name = models.CharField("佐证材料文件名", max_length=255, blank=True)
    evidence_sha256 = models.CharField("佐证材料 SHA-256", max_length=64, blank=True)
    evidence_text = models.TextField("佐证材料文字", blank=True)

    class Meta:
        verbose_name = "整改情况报告"
        verbose_name_plural = "整改情况报告"
        ordering = ["reported_at", "id"]

    def __str__(self):
        return f"{self.finding_id} {self.get_status_display()}"


class FindingEvent(StepEvent):
    """Every step of an audit finding, append-only."""

    finding = models.ForeignKey(
        AuditFinding, verbose_name="审计查出问题", on_delete=models.PROTECT, related_name="events"
    )

    class Meta:
        verbose_name = "审计整改记录"
        verbose_name_plural = "审计整改记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.finding_id} {self.action}"


from .alert_models import Alert, AlertEvent, AlertRule  # noqa: E402,F401  (监督预警)
from .assets_models import EnterpriseAssets, UnitAssets  # noqa: E402, F401  (国有资产)
from .query_models import QueryRequest, QueryRequestEvent  # noqa: E402,F401
