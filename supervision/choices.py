"""The small vocabularies of supervision data: debt categories, bond types, import kinds."""

from django.db import models


class DebtCategory(models.TextChoices):
    """一般债务 is repaid from the general budget, 专项债务 from fund or project income."""

    GENERAL = "general", "一般债务"
    SPECIAL = "special", "专项债务"


class BondType(models.TextChoices):
    NEW = "new", "新增债券"
    REFINANCE = "refinance", "再融资债券"
    REPLACEMENT = "replacement", "置换债券"


class ImportKind(models.TextChoices):
    POSITIONS = "positions", "债务限额余额"
    BONDS = "bonds", "债券明细"
    REPAYMENTS = "repayments", "还本付息"
    UNIT_ASSETS = "unit_assets", "行政事业性国有资产"
    ENTERPRISE_ASSETS = "soe_assets", "企业国有资产"
    FINDINGS = "findings", "审计查出问题"


CATEGORY_ALIASES = {label: value for value, label in DebtCategory.choices} | {
    "一般": DebtCategory.GENERAL,
    "一般债券": DebtCategory.GENERAL,
    "专项": DebtCategory.SPECIAL,
    "专项债券": DebtCategory.SPECIAL,
}

BOND_TYPE_ALIASES = {label: value for value, label in BondType.choices} | {
    "新增": BondType.NEW,
    "再融资": BondType.REFINANCE,
    "置换": BondType.REPLACEMENT,
}


class RectificationStatus(models.TextChoices):
    """整改状态 of an audit finding."""

    NONE = "none", "未整改"
    PARTIAL = "partial", "部分整改"
    DONE = "done", "已整改"


class RectificationMode(models.TextChoices):
    IMMEDIATE = "immediate", "立行立改"
    STAGED = "staged", "分阶段整改"
    CONTINUING = "continuing", "持续整改"


MODE_ALIASES = {label: value for value, label in RectificationMode.choices} | {
    "立行立改": RectificationMode.IMMEDIATE,
    "分阶段": RectificationMode.STAGED,
    "持续": RectificationMode.CONTINUING,
}
