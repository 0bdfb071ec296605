"""Blocks that cite supervision figures (supervision/figures.py) in any page's StreamField,
beside budget's FigureBlock; they behave the same way (budget.blocks.CitedFigureBlock): live or
frozen at publication, and listed under 被引用 on the figure's page."""

from wagtail import blocks

from budget.blocks import MODE_CHOICES, MODE_HELP, CitedFigureBlock, FigureBlock

from .choices import DebtCategory
from .figures import ASSET_MEASURES, ASSET_SCOPES, AUDIT_MEASURES, DEBT_MEASURES


def _mode():
    return blocks.ChoiceBlock(
        label="数值方式", choices=MODE_CHOICES, default="frozen", help_text=MODE_HELP
    )


def _label():
    return blocks.CharBlock(label="显示名称", required=False, max_length=100)


def _year():
    return blocks.IntegerBlock(label="年度", min_value=1990, max_value=2100)


class DebtFigureBlock(CitedFigureBlock):
    source = "debt"
    error_field = "measure"

    year = _year()
    category = blocks.ChoiceBlock(
        label="债务类型",
        choices=[("", "全县合计"), *DebtCategory.choices],
        default="",
        required=False,
        help_text="债务率、偿债率、利息支出率等只按全县合计",
    )
    measure = blocks.ChoiceBlock(
        label="指标", choices=list(DEBT_MEASURES.items()), default="balance"
    )
    mode = _mode()
    label = _label()

    class Meta:
        icon = "table"
        label = "政府债务数据"
        template = "budget/blocks/figure.html"


class AssetFigureBlock(CitedFigureBlock):
    source = "assets"
    error_field = "name"

    year = _year()
    scope = blocks.ChoiceBlock(label="资产类别", choices=list(ASSET_SCOPES.items()), default="unit")
    name = blocks.CharBlock(
        label="单位或企业名称", max_length=200, required=False, help_text="留空表示合计"
    )
    measure = blocks.ChoiceBlock(
        label="指标", choices=list(ASSET_MEASURES.items()), default="total_assets"
    )
    mode = _mode()
    label = _label()

    class Meta:
        icon = "table"
        label = "国有资产数据"
        template = "budget/blocks/figure.html"


class AuditFigureBlock(CitedFigureBlock):
    source = "audit"
    error_field = "department"

    year = _year()
    department = blocks.CharBlock(
        label="责任单位编码", max_length=20, required=False, help_text="留空表示全部单位"
    )
    measure = blocks.ChoiceBlock(
        label="指标", choices=list(AUDIT_MEASURES.items()), default="count"
    )
    mode = _mode()
    label = _label()

    class Meta:
        icon = "table"
        label = "审计整改数据"
        template = "budget/blocks/figure.html"


SOURCE_BLOCKS = (
    ("debt_figure", DebtFigureBlock),
    ("asset_figure", AssetFigureBlock),
    ("audit_figure", AuditFigureBlock),
)


def figure_blocks() -> list:
    """Every figure block, named for a StreamField: budget, debt, assets, audit."""
    return [("figure", FigureBlock()), *((name, cls()) for name, cls in SOURCE_BLOCKS)]


def register() -> None:
    """预算分析 pages (budget.blocks.AnalysisBodyBlock) accept these blocks too."""
    from budget.blocks import register_figure_block

    for name, block_class in SOURCE_BLOCKS:
        register_figure_block(name, block_class)
