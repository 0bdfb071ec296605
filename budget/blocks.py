"""StreamField blocks that cite figures. Any page type may use FigureBlock (budget figures)
or the blocks of other sources built on CitedFigureBlock (supervision/blocks.py: 债务, 国有资产,
审计整改):

    from budget.blocks import FigureBlock
    body = StreamField([("paragraph", RichTextBlock()), ("figure", FigureBlock())])

Publishing and unpublishing keep the figure's "cited by" list current (budget/signals.py).
This module imports models lazily: budget.models itself uses these blocks.
"""

from django.core.exceptions import ValidationError
from django.forms.utils import ErrorList
from wagtail import blocks

from .choices import BudgetKind, ClassificationKind, Measure

MODE_CHOICES = [("frozen", "发布时冻结"), ("live", "实时（随数据更新）")]
MODE_HELP = "发布时冻结：页面发布后数值不再变化，数据更新时页面会提示；实时：始终显示最新数据。"


class CitedFigureBlock(blocks.StructBlock):
    """A block whose value names one figure of ``source`` (budget/figures.py SOURCES), with a
    ``mode`` (frozen / live) and an optional ``label``. Subclasses declare the other fields
    and ``error_field``, the field a refusal is shown on."""

    source = "budget"
    error_field = "code"

    def spec_of(self, value):
        from .figures import spec_from_data

        return spec_from_data(value, self.source)

    def clean(self, value):
        from .figures import FigureSpecError

        value = super().clean(value)
        try:
            self.spec_of(value).validate()
        except FigureSpecError as error:
            raise blocks.StructBlockValidationError(
                block_errors={self.error_field: ErrorList([ValidationError(str(error))])}
            ) from None
        return value

    def get_context(self, value, parent_context=None):
        from .figures import FigureSpecError, render_figure

        context = super().get_context(value, parent_context=parent_context)
        page = (parent_context or {}).get("page")
        try:
            spec = self.spec_of(value)
        except FigureSpecError as error:
            context["figure_error"] = str(error)
            return context
        context["figure"] = render_figure(
            spec, value.get("mode") or "frozen", page=page, label=value.get("label") or ""
        )
        return context


class FigureBlock(CitedFigureBlock):
    year = blocks.IntegerBlock(label="年度", min_value=1990, max_value=2100)
    month = blocks.IntegerBlock(
        label="月份", min_value=0, max_value=12, default=0, help_text="0 表示全年（年初预算、决算）"
    )
    budget = blocks.ChoiceBlock(label="预算", choices=BudgetKind.choices, default="general")
    kind = blocks.ChoiceBlock(
        label="科目分类", choices=ClassificationKind.choices, default="function"
    )
    code = blocks.CharBlock(label="科目编码", max_length=12)
    department = blocks.CharBlock(
        label="单位编码", max_length=20, required=False, help_text="留空表示全县合计"
    )
    measure = blocks.ChoiceBlock(label="指标", choices=Measure.choices, default="cumulative")
    mode = blocks.ChoiceBlock(
        label="数值方式",
        choices=MODE_CHOICES,
        default="frozen",
        help_text=MODE_HELP,
    )
    label = blocks.CharBlock(label="显示名称", required=False, max_length=100)

    class Meta:
        icon = "table"
        label = "预算数据"
        template = "budget/blocks/figure.html"


# Figure blocks of other sources that 预算分析 pages accept beside budget's own: name → block
# class. supervision registers 政府债务, 国有资产 and 审计整改 from its AppConfig.ready (budget
# does not import supervision); AnalysisBodyBlock reads this when Django first asks for the
# field's block, after every app is ready.
FIGURE_BLOCKS: dict[str, type] = {}


def register_figure_block(name: str, block_class: type) -> None:
    FIGURE_BLOCKS[name] = block_class


class AnalysisBodyBlock(blocks.StreamBlock):
    """The body of a 预算分析 page: headings, paragraphs, budget figures and every registered
    source's figures. Passed to StreamField as a class, so it is built lazily."""

    def __init__(self, local_blocks=None, **kwargs):
        from django.apps import apps

        if not apps.ready:
            raise RuntimeError(
                "AnalysisBodyBlock 须在所有应用加载之后创建（其他来源的数据块尚未登记）"
            )
        own = [
            ("heading", blocks.CharBlock(label="小标题", form_classname="title")),
            ("paragraph", blocks.RichTextBlock(label="段落")),
            ("figure", FigureBlock()),
        ]
        registered = [(name, block_class()) for name, block_class in FIGURE_BLOCKS.items()]
        super().__init__([*own, *registered, *(local_blocks or [])], **kwargs)
