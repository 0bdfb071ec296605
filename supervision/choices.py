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


# --- alerts (监督预警) and their rules -------------------------------------------------


class AlertGrade(models.TextChoices):
    """预警等级 (domain.md §6)."""

    GENERAL = "general", "一般"
    IMPORTANT = "important", "重要"
    MAJOR = "major", "重大"


class AlertStatus(models.TextChoices):
    NEW = "new", "新"
    BULLETIN = "bulletin", "已通报"
    LETTER = "letter", "已函询"
    ANSWERED = "answered", "已回复"
    CLOSED = "closed", "已关闭"


class RuleKind(models.TextChoices):
    EXECUTION_LAG = "execution_lag", "执行进度落后于序时进度"
    THREE_PUBLIC_OVER = "three_public_over", "三公经费超预算"
    YEAR_END_RUSH = "year_end_rush", "12月支出占全年比重过高"
    FINAL_DEVIATION = "final_deviation", "决算与预算偏离过大"
    # computed by supervision.debt_rules, registered in supervision.alerts.EXTERNAL_FINDERS
    DEBT_NEAR_LIMIT = "debt_near_limit", "债务余额接近限额"
    DEBT_RATIO = "debt_ratio", "债务率超过警戒线"
    DEBT_SERVICE_RATIO = "debt_service_ratio", "偿债率超过警戒线"
    DEBT_INTEREST_RATIO = "debt_interest_ratio", "利息支出率超过警戒线"
    DEBT_MATURITY_UNFUNDED = "debt_maturity_unfunded", "债券到期未落实偿还资金来源"
    # computed by supervision.fiscal_rules: the rules the county measures name
    BUDGET_BALANCE = "budget_balance", "收支不平衡（含调入调出资金）"
    TRANSFER_LAG = "transfer_lag", "转移支付下达进度落后"
    IDLE_BALANCE = "idle_balance", "结转结余过大"
    TAX_SHARE = "tax_share", "税收收入占比偏低"
    # owns the problems staff find by hand (supervision.problems); never evaluated
    MANUAL = "manual", "人工发现问题"


class RuleScope(models.TextChoices):
    CATEGORY = "category", "按类"
    SECTION = "section", "按款"
    DEPARTMENT = "department", "按单位"
