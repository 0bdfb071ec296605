"""立卷归档 (DA/T 22-2015): archive items (件), their frozen files, numbering counters,
retention rules, class codes, the access register, fixity reports and appraisal decisions."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from wagtail.search import index

from cms.usage.models import AppendOnlyModel, AppendOnlyQuerySet, StepEvent

READ_PERMISSION = "archive.view_archiveitem"
FILE_PERMISSION = "cms.file_records"


class Retention(models.TextChoices):
    PERMANENT = "Y", "永久"
    THIRTY_YEARS = "D30", "定期30年"
    TEN_YEARS = "D10", "定期10年"


RETENTION_YEARS = {Retention.THIRTY_YEARS: 30, Retention.TEN_YEARS: 10}


class ClassKind(models.TextChoices):
    ORGANISATION = "organisation", "机构"
    SUBJECT = "subject", "问题"


class Classification(models.TextChoices):
    NONE = "", "无"
    INTERNAL = "内部", "内部"


# 元谋 办法 第十条: the system must never store or process classified material, so no
# 密级 above 内部 exists here; one named anyway is refused with the rule.
CLASSIFIED_LEVELS = ("秘密", "机密", "绝密")
CLASSIFIED_REFUSAL = (
    "本系统不得存储、处理涉密信息（元谋 办法 第十条：严禁使用系统存储、处理涉密信息），"
    "标为“{level}”的材料不能在本系统归档，请按涉密载体管理规定另行处理。"
)


class ArchiveClass(models.Model):
    """A 机构 (organisation) or 问题 (subject) code, e.g. YSGW = 预算工委."""

    code = models.CharField(
        "代码", max_length=10, unique=True, help_text="大写字母或数字，例如 YSGW（预算工委）"
    )
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类别", max_length=16, choices=ClassKind.choices)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "机构（问题）代码"
        verbose_name_plural = "机构（问题）代码"
        ordering = ["kind", "code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        from django.core.exceptions import ValidationError

        self.code = (self.code or "").strip().upper()
        if not self.code.isalnum() or not self.code.isascii():
            raise ValidationError({"code": "代码只能由大写字母和数字组成。"})


class RetentionRule(models.Model):
    """The archivist's table: which retention period and class a record type gets by default."""

    record_type = models.CharField("材料类型", max_length=50, unique=True)
    label = models.CharField("名称", max_length=100)
    retention = models.CharField("保管期限", max_length=4, choices=Retention.choices)
    default_class = models.ForeignKey(
        ArchiveClass,
        verbose_name="默认机构（问题）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "保管期限表"
        verbose_name_plural = "保管期限表"
        ordering = ["record_type"]

    def __str__(self):
        return f"{self.label}：{self.get_retention_display()}"


class NumberCounter(models.Model):
    """The last 件号 given in one lowest class (全宗·门类·年度·期限·机构/问题).

    Locked (select_for_update / SQLite IMMEDIATE) while a number is taken, so two
    archivists filing at once get consecutive numbers and no gap."""

    fonds_code = models.CharField(max_length=4)
    category_code = models.CharField(max_length=4)
    year = models.PositiveSmallIntegerField()
    retention = models.CharField(max_length=4)
    class_code = models.CharField(max_length=10)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "件号计数"
        verbose_name_plural = "件号计数"
        constraints = [
            models.UniqueConstraint(
                fields=["fonds_code", "category_code", "year", "retention", "class_code"],
                name="archive_counter_unique_class",
            )
        ]

    def __str__(self):
        return f"{self.fonds_code}-{self.category_code}·{self.year}-{self.retention}-{self.class_code}：{self.last_number}"


class ItemStatus(models.TextChoices):
    RENDERING = "rendering", "正在生成归档文件"
    FAILED = "failed", "生成失败，待重试"
    FILED = "filed", "已归档"


class FrozenItemError(Exception):
    pass


class ArchiveItemQuerySet(models.QuerySet):
    def delete(self):
        raise FrozenItemError("归档文件不能删除。")

    def update(self, **kwargs):
        raise FrozenItemError("归档文件不能修改。")

    def update_unfiled(self, **kwargs):
        """Only the filing service uses this: finish an item whose package is being made."""
        return super(ArchiveItemQuerySet, self.exclude(status=ItemStatus.FILED)).update(**kwargs)

    def filed(self):
        return self.filter(status=ItemStatus.FILED)


class ArchiveItem(index.Indexed, models.Model):
    """件: one filed document with its attachments, numbered per DA/T 22-2015."""

    # 档号 parts
    fonds_code = models.CharField("全宗号", max_length=4)
    category_code = models.CharField("门类", max_length=4)
    year = models.PositiveSmallIntegerField("年度", db_index=True)
    retention = models.CharField("保管期限", max_length=4, choices=Retention.choices)
    class_kind = models.CharField("机构（问题）类别", max_length=16, choices=ClassKind.choices)
    class_code = models.CharField("机构（问题）", max_length=10)
    sequence = models.PositiveIntegerField("件号")
    item_number = models.CharField("档号", max_length=60, unique=True)
    # catalogue
    doc_number = models.CharField("文号", max_length=100, blank=True)
    responsible = models.CharField("责任者", max_length=200, blank=True)
    title = models.CharField("题名", max_length=500)
    date = models.DateField("日期")
    classification = models.CharField(
        "密级", max_length=8, choices=Classification.choices, blank=True, default=""
    )
    page_count = models.PositiveIntegerField("页数", default=0)
    remarks = models.CharField("备注", max_length=500, blank=True)
    # where it came from
    record_type = models.CharField("材料类型", max_length=50, db_index=True)
    source_key = models.CharField("来源登记", max_length=100)
    source_type = models.ForeignKey(
        ContentType, verbose_name="来源类型", on_delete=models.PROTECT, related_name="+"
    )
    source_id = models.CharField("来源编号", max_length=64)
    source_label = models.CharField("来源", max_length=300, blank=True)
    metadata = models.JSONField("元数据快照", default=dict)
    corrects = models.ForeignKey(
        "self",
        verbose_name="更正",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    # package
    status = models.CharField(
        "状态", max_length=16, choices=ItemStatus.choices, default=ItemStatus.RENDERING
    )
    status_message = models.TextField("状态说明", blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="归档人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    filed_at = models.DateTimeField("归档时间", null=True, blank=True)

    objects = ArchiveItemQuerySet.as_manager()

    search_fields = [
        index.SearchField("title", boost=3),
        index.SearchField("item_number", boost=2),
        index.SearchField("doc_number", boost=2),
        index.SearchField("responsible"),
        index.SearchField("remarks"),
        index.AutocompleteField("title"),
        index.FilterField("status"),
        index.FilterField("year"),
        index.FilterField("retention"),
    ]

    class Meta:
        verbose_name = "归档文件"
        verbose_name_plural = "归档文件"
        ordering = ["year", "retention", "class_code", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "fonds_code",
                    "category_code",
                    "year",
                    "retention",
                    "class_code",
                    "sequence",
                ],
                name="archive_item_unique_number",
            )
        ]
        indexes = [models.Index(fields=["source_type", "source_id"])]

    def __str__(self):
        return f"{self.item_number} {self.title}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == ItemStatus.FILED:
                raise FrozenItemError("已归档的文件不能修改；如需更正，请另行归档一件更正件。")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("archive:item", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise FrozenItemError("归档文件不能删除。")

    @property
    def is_filed(self) -> bool:
        return self.status == ItemStatus.FILED

    @property
    def class_label(self) -> str:
        return f"{self.get_class_kind_display()}代码"

    @property
    def retention_ends(self) -> int | None:
        """The year after which a D10/D30 item is due for appraisal (None for 永久)."""
        years = RETENTION_YEARS.get(self.retention)
        return self.year + years if years else None

    @property
    def date_digits(self) -> str:
        return self.date.strftime("%Y%m%d")


class FileRole(models.TextChoices):
    RENDITION = "rendition", "版式文件（含归档章）"
    ORIGINAL = "original", "原件"
    METADATA = "metadata", "元数据"


class ArchiveFile(AppendOnlyModel):
    """One stored file of an item's package with its digests (SHA-256, SM3)."""

    item = models.ForeignKey(
        ArchiveItem, verbose_name="归档文件", on_delete=models.PROTECT, related_name="files"
    )
    role = models.CharField("用途", max_length=16, choices=FileRole.choices)
    name = models.CharField("文件名", max_length=255)
    relative_path = models.CharField("存放位置", max_length=500, unique=True)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    sm3 = models.CharField("SM3", max_length=64, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "归档文件组成"
        verbose_name_plural = "归档文件组成"
        ordering = ["item", "role", "id"]

    def __str__(self):
        return self.name


class FilingEvent(StepEvent):
    """Every step of an item: registered, package made, failure, retry, correction."""

    item = models.ForeignKey(
        ArchiveItem, verbose_name="归档文件", on_delete=models.PROTECT, related_name="events"
    )

    class Meta:
        verbose_name = "归档记录"
        verbose_name_plural = "归档记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.item_id} {self.action}"


class AccessAction(models.TextChoices):
    CONSULT = "consult", "查阅"
    DOWNLOAD = "download", "下载"


class AccessRecord(AppendOnlyModel):
    """利用登记: who consulted or downloaded which item, and why."""

    item = models.ForeignKey(
        ArchiveItem, verbose_name="归档文件", on_delete=models.PROTECT, related_name="accesses"
    )
    file = models.ForeignKey(
        ArchiveFile,
        verbose_name="文件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="利用人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    username = models.CharField("账号", max_length=150)
    action = models.CharField("方式", max_length=16, choices=AccessAction.choices)
    purpose = models.TextField("利用目的", blank=True)
    ip_address = models.GenericIPAddressField("地址", null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "利用登记"
        verbose_name_plural = "利用登记"
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.username} {self.get_action_display()} {self.item_id}"

    @property
    def person(self) -> str:
        """The user's name (姓名) for pages; the account kept in the row when there is none."""
        return str(self.user) if self.user_id else self.username


class FixityReport(AppendOnlyModel):
    """One run of the fixity check: every stored file re-hashed and compared."""

    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("完成时间")
    trigger = models.CharField("触发方式", max_length=32)
    files_checked = models.PositiveIntegerField("核验文件数")
    missing = models.JSONField("缺失文件", default=list)
    altered = models.JSONField("被改动文件", default=list)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "完整性核验报告"
        verbose_name_plural = "完整性核验报告"
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"完整性核验 {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def ok(self) -> bool:
        return not self.missing and not self.altered

    # reports written before the triggers were named in Chinese
    LEGACY_TRIGGERS = {"beat": "定时核验", "command": "命令行核验", "manual": "手动核验"}

    @property
    def trigger_label(self) -> str:
        return self.LEGACY_TRIGGERS.get(self.trigger, self.trigger)

    @staticmethod
    def _shown(entries) -> list[dict]:
        """Entries for the page: the item's number and the file's name, not its stored path."""
        return [{**e, "name": str(e.get("file", "")).rsplit("/", 1)[-1]} for e in entries]

    @property
    def missing_shown(self) -> list[dict]:
        return self._shown(self.missing)

    @property
    def altered_shown(self) -> list[dict]:
        return self._shown(self.altered)


class Decision(models.TextChoices):
    KEEP = "keep", "继续保存"
    DESTROY = "destroy", "销毁"
    EXTEND = "extend", "延长保管期限"


class AppraisalDecision(AppendOnlyModel):
    """鉴定: what the appraisal decided for an item whose retention period has ended."""

    item = models.ForeignKey(
        ArchiveItem, verbose_name="归档文件", on_delete=models.PROTECT, related_name="appraisals"
    )
    decision = models.CharField("鉴定结论", max_length=16, choices=Decision.choices)
    extend_to_year = models.PositiveSmallIntegerField("延长至（年）", null=True, blank=True)
    reason = models.TextField("理由")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="鉴定人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by_name = models.CharField("鉴定人账号", max_length=150)
    at = models.DateTimeField("时间", auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "鉴定记录"
        verbose_name_plural = "鉴定记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.item_id} {self.get_decision_display()}"

    @property
    def person(self) -> str:
        return str(self.decided_by) if self.decided_by_id else self.decided_by_name
