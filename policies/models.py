"""政策法规库: policy documents as Wagtail pages, their articles, categories, relations,
original files, and each user's bookmarks and excerpts."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.shortcuts import render
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase
from wagtail import blocks
from wagtail.admin.panels import FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from supervision.blocks import figure_blocks

from . import detection
from .choices import EffectLevel, IngestStatus, RelationKind, Validity

READ_PERMISSION = "cms.read_library"
UPLOAD_PERMISSION = "cms.publish_material"


class PolicyCategory(models.Model):
    """分类: an editable tree (预算管理 › 预算审查 …)."""

    name = models.CharField("名称", max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级分类",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "政策法规分类"
        verbose_name_plural = "政策法规分类"
        ordering = ["sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="policy_category_unique_name")
        ]

    def __str__(self):
        return " › ".join(node.name for node in self.ancestry())

    def ancestry(self) -> list["PolicyCategory"]:
        chain, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            chain.insert(0, node)
            node = node.parent
        return chain

    def clean(self):
        node = self.parent
        while node is not None:
            if self.pk and node.pk == self.pk:
                raise ValidationError({"parent": "上级分类不能是它自己或它的下级分类。"})
            node = node.parent

    def descendant_ids(self) -> list[int]:
        ids, frontier = [self.pk], [self.pk]
        while frontier:
            frontier = list(
                PolicyCategory.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids.extend(frontier)
        return ids


class PolicyKeyword(TaggedItemBase):
    content_object = ParentalKey(
        "policies.PolicyPage", on_delete=models.CASCADE, related_name="tagged_keywords"
    )


class PolicyIndexPage(Page):
    """The library's root page; documents are its children."""

    intro = models.TextField("导语", blank=True)

    content_panels = Page.content_panels + ["intro"]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["policies.PolicyPage"]
    max_count = 1

    class Meta:
        verbose_name = "政策法规库"

    def serve(self, request, *args, **kwargs):
        from .browse import browse_context

        if not request.user.has_perm(READ_PERMISSION):
            raise PermissionDenied
        return render(request, "policies/browse.html", browse_context(request, index_page=self))


class PolicyPage(Page):
    """One policy or law document (政策法规文件)."""

    doc_number = models.CharField("文号", max_length=100, blank=True, db_index=True)
    issuer = models.CharField("发文机关", max_length=100, blank=True, db_index=True)
    effect_level = models.CharField(
        "效力级别", max_length=20, choices=EffectLevel.choices, blank=True, db_index=True
    )
    status = models.CharField(
        "时效性", max_length=20, choices=Validity.choices, default=Validity.CURRENT, db_index=True
    )
    written_on = models.DateField("成文日期", null=True, blank=True)
    issued_on = models.DateField("发布日期", null=True, blank=True)
    effective_on = models.DateField("施行日期", null=True, blank=True)
    year = models.PositiveSmallIntegerField("年份", null=True, blank=True, editable=False)
    categories = ParentalManyToManyField(PolicyCategory, verbose_name="分类", blank=True)
    keywords = ClusterTaggableManager(
        "主题词", through=PolicyKeyword, blank=True, help_text="多个主题词用逗号分隔"
    )
    summary = models.TextField("摘要", blank=True)
    body_text = models.TextField(
        "正文",
        blank=True,
        help_text="每条一段，以“第X条”开头；“第X编/章/节 名称”单独成行。",
    )
    needs_ocr = models.BooleanField("无文字层，需要 OCR", default=False)
    # figures the document is read beside (预算、债务、国有资产、审计整改), live or frozen at
    # publication; publishing records them under each figure's 被引用 (budget/figures.py)
    cited_figures = StreamField(
        [("note", blocks.CharBlock(label="说明", max_length=200)), *figure_blocks()],
        verbose_name="引用数据",
        blank=True,
    )
    article_count = models.PositiveIntegerField("条数", default=0, editable=False)

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [
                FieldRowPanel(["doc_number", "issuer"]),
                FieldRowPanel(["effect_level", "status"]),
                FieldRowPanel(["written_on", "issued_on", "effective_on"]),
                "categories",
                "keywords",
                "needs_ocr",
            ],
            heading="基本信息",
        ),
        "summary",
        "body_text",
        "cited_figures",
        InlinePanel("relations", heading="相关文件（修订 / 废止 / 依据）", label="关系"),
    ]
    parent_page_types = ["policies.PolicyIndexPage"]
    subpage_types = []

    # Page.search_fields already holds the title, boosted
    search_fields = Page.search_fields + [
        index.SearchField("doc_number", boost=2),
        index.SearchField("issuer"),
        index.SearchField("summary"),
        index.SearchField("body_text"),
        index.AutocompleteField("doc_number"),
        index.RelatedFields("keywords", [index.SearchField("name", boost=2)]),
        index.FilterField("effect_level"),
        index.FilterField("status"),
        index.FilterField("issuer"),
        index.FilterField("year"),
        index.FilterField("issued_on"),
    ]

    class Meta:
        verbose_name = "政策法规文件"
        verbose_name_plural = "政策法规文件"

    def clean(self):
        super().clean()
        if self.doc_number:
            self.doc_number = detection.normalise_doc_number_text(self.doc_number)
            clash = (
                PolicyPage.objects.filter(doc_number=self.doc_number)
                .exclude(pk=self.pk)
                .values_list("title", flat=True)
                .first()
            )
            if clash is not None:
                raise ValidationError(
                    {"doc_number": f"文号“{self.doc_number}”已被《{clash}》使用。"}
                )

    def structure(self) -> detection.Structure:
        cached = getattr(self, "_structure_cache", None)
        if cached is None or cached[0] != self.body_text:
            cached = (self.body_text, detection.parse_structure(self.body_text or ""))
            self._structure_cache = cached
        return cached[1]

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        full = update_fields is None
        if full or "doc_number" in update_fields:
            self.doc_number = detection.normalise_doc_number_text(self.doc_number)
        if full or "issued_on" in update_fields:
            self.year = self.issued_on.year if self.issued_on else None
        if full or "body_text" in update_fields:
            self.article_count = len(self.structure().articles)
        new = self.pk is None
        result = super().save(*args, **kwargs)
        if full or {"body_text", "live"} & set(update_fields):
            from .services import sync_articles

            sync_articles(self, new=new)
        return result

    # --- relations and status -----------------------------------------------------------

    def incoming(self, kind):
        return PolicyPage.objects.live().filter(relations__target=self, relations__kind=kind)

    def outgoing(self, kind):
        return PolicyPage.objects.filter(
            incoming_relations__page=self, incoming_relations__kind=kind
        )

    @property
    def repealed_by(self):
        return list(self.incoming(RelationKind.REPEALS))

    @property
    def current_status(self) -> str:
        """The status shown: a live repeal or revision elsewhere wins over the stored value."""
        if self.status == Validity.REPEALED or self.incoming(RelationKind.REPEALS).exists():
            return Validity.REPEALED
        if self.status == Validity.REVISED or self.incoming(RelationKind.REVISES).exists():
            return Validity.REVISED
        return self.status

    @property
    def current_status_label(self) -> str:
        return Validity(self.current_status).label

    def versions(self) -> list["PolicyPage"]:
        """Every version linked by 修订 relations, this one included, oldest first."""
        seen = {self.pk: self}
        frontier = [self.pk]
        while frontier:
            linked = PolicyPage.objects.filter(
                models.Q(relations__target_id__in=frontier, relations__kind=RelationKind.REVISES)
                | models.Q(
                    incoming_relations__page_id__in=frontier,
                    incoming_relations__kind=RelationKind.REVISES,
                )
            ).distinct()
            frontier = []
            for page in linked:
                if page.pk not in seen:
                    seen[page.pk] = page
                    frontier.append(page.pk)
        if len(seen) == 1:
            return []
        return sorted(seen.values(), key=lambda p: (p.issued_on or p.first_published_at or 0, p.pk))

    def get_context(self, request, *args, **kwargs):
        from .reading import reading_context

        context = super().get_context(request, *args, **kwargs)
        context.update(reading_context(request, self))
        return context

    def serve(self, request, *args, **kwargs):
        if not request.user.has_perm(READ_PERMISSION):
            raise PermissionDenied
        return super().serve(request, *args, **kwargs)


class PolicyRelation(Orderable):
    """修订 / 废止 / 依据: this page (the newer or dependent one) → the target."""

    page = ParentalKey(PolicyPage, on_delete=models.CASCADE, related_name="relations")
    kind = models.CharField("关系", max_length=20, choices=RelationKind.choices)
    target = models.ForeignKey(
        PolicyPage,
        verbose_name="相关文件",
        on_delete=models.CASCADE,
        related_name="incoming_relations",
    )
    note = models.CharField("说明", max_length=200, blank=True)

    panels = ["kind", "target", "note"]

    class Meta(Orderable.Meta):
        verbose_name = "文件关系"
        verbose_name_plural = "文件关系"

    def clean(self):
        if self.target_id and self.page_id and self.target_id == self.page_id:
            raise ValidationError({"target": "文件不能与自身建立关系。"})


class PolicyArticle(index.Indexed, models.Model):
    """One 条 of a published document: its permanent anchor and its own search entry."""

    page = models.ForeignKey(PolicyPage, on_delete=models.CASCADE, related_name="articles")
    position = models.PositiveIntegerField("序号")
    label = models.CharField("条号", max_length=30)
    number = models.PositiveIntegerField("条")
    sub = models.PositiveSmallIntegerField("之", default=0)
    book = models.CharField("编", max_length=120, blank=True)
    chapter = models.CharField("章", max_length=120, blank=True)
    section = models.CharField("节", max_length=120, blank=True)
    text = models.TextField("内容")

    search_fields = [
        index.SearchField("text"),
        index.SearchField("label", boost=2),
        index.RelatedFields("page", [index.SearchField("title", boost=2)]),
        index.FilterField("page"),
        index.FilterField("label"),
    ]

    class Meta:
        verbose_name = "条文"
        verbose_name_plural = "条文"
        ordering = ["page", "position"]
        constraints = [
            models.UniqueConstraint(fields=["page", "label"], name="policy_article_unique_label")
        ]

    def __str__(self):
        return f"《{self.page.title}》{self.label}"

    def get_absolute_url(self) -> str:
        return f"{self.page.url}#{self.label}"


def original_upload_to(instance, filename):
    return f"policies/originals/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class PolicyFile(models.Model):
    """An uploaded original (kept untouched, with its SHA-256) and its ingestion status."""

    file = models.FileField("原件", upload_to=original_upload_to, max_length=400, blank=True)
    original_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField("大小（字节）", default=0)
    status = models.CharField(
        "状态", max_length=20, choices=IngestStatus.choices, default=IngestStatus.PENDING
    )
    message = models.TextField("说明", blank=True)
    page = models.ForeignKey(
        PolicyPage,
        verbose_name="文件",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="files",
    )
    duplicate_of = models.ForeignKey(
        PolicyPage,
        verbose_name="与之重复",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    publish = models.BooleanField("直接发布", default=False)
    detected = models.JSONField("识别结果", default=dict, blank=True)
    batch = models.CharField("批次", max_length=40, blank=True, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # the process working on it ("pid@host"), so a crashed one's work is found and redone
    claimed_by = models.CharField("处理进程", max_length=100, blank=True)
    claimed_at = models.DateTimeField("开始处理时间", null=True, blank=True)

    class Meta:
        verbose_name = "政策法规原件"
        verbose_name_plural = "政策法规原件"
        ordering = ["-created_at", "-id"]
        constraints = [
            # one file per content while it is queued, processing or imported: two imports
            # of the same bytes at once cannot both create a document
            models.UniqueConstraint(
                fields=["sha256"],
                condition=models.Q(status__in=["pending", "processing", "created"])
                & ~models.Q(sha256=""),
                name="policyfile_one_live_per_digest",
            )
        ]

    def __str__(self):
        return self.original_name

    @property
    def is_finished(self) -> bool:
        return self.status not in (IngestStatus.PENDING, IngestStatus.PROCESSING)


class Bookmark(models.Model):
    """收藏."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="policy_bookmarks"
    )
    page = models.ForeignKey(PolicyPage, on_delete=models.CASCADE, related_name="bookmarks")
    created_at = models.DateTimeField("收藏时间", auto_now_add=True)

    class Meta:
        verbose_name = "收藏"
        verbose_name_plural = "收藏"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "page"], name="policy_bookmark_unique")
        ]

    def __str__(self):
        return f"{self.user} 收藏《{self.page.title}》"


class TaggedExcerpt(TaggedItemBase):
    content_object = models.ForeignKey(
        "policies.Excerpt", on_delete=models.CASCADE, related_name="tagged_items"
    )


class Excerpt(models.Model):
    """摘录: an article or a passage, copied at the time with the user's note and tags."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="policy_excerpts"
    )
    page = models.ForeignKey(PolicyPage, on_delete=models.CASCADE, related_name="excerpts")
    article_label = models.CharField("条号", max_length=30, blank=True)
    text = models.TextField("摘录内容")
    note = models.TextField("笔记", blank=True)
    tags = TaggableManager("标签", through=TaggedExcerpt, blank=True)
    created_at = models.DateTimeField("摘录时间", auto_now_add=True)

    class Meta:
        verbose_name = "摘录"
        verbose_name_plural = "摘录"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.citation

    @property
    def citation(self) -> str:
        return f"《{self.page.title}》{self.article_label}"

    @property
    def url(self) -> str:
        return f"{self.page.url}#{self.article_label}" if self.article_label else self.page.url


def on_commit_index(objects):
    """Index article rows created in bulk (bulk_create sends no signals). Submitted now:
    the backend itself waits for the commit and records the write ahead, so a crash
    between the commit and the index write cannot lose it."""
    from modelsearch.backends import get_search_backends

    objects = list(objects)
    if not objects:
        return
    for backend in get_search_backends(with_auto_update=True):
        backend.add_bulk(PolicyArticle, objects)
