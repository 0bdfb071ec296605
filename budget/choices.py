"""The small vocabularies of budget data: budgets, classifications, phases, alerts."""

from django.db import models


class BudgetKind(models.TextChoices):
    """四本预算."""

    GENERAL = "general", "一般公共预算"
    FUND = "fund", "政府性基金预算"
    STATE_CAPITAL = "capital", "国有资本经营预算"
    SOCIAL_INSURANCE = "social", "社会保险基金预算"


class ClassificationKind(models.TextChoices):
    """政府收支分类科目 (reissued yearly by the Ministry of Finance)."""

    FUNCTION = "function", "支出功能分类"
    ECONOMIC = "economic", "支出经济分类"
    REVENUE = "revenue", "收入分类"


# Digits of each level: function 类/款/项 = 3/5/7, revenue 类/款/项/目 = 3/5/7/9,
# economic 类/款 = 3/5.
LEVEL_LENGTHS = {
    ClassificationKind.FUNCTION: (3, 5, 7),
    ClassificationKind.ECONOMIC: (3, 5),
    ClassificationKind.REVENUE: (3, 5, 7, 9),
}
LEVEL_NAMES = ("类", "款", "项", "目")


class Phase(models.TextChoices):
    """阶段. 执行 is the month's own amount; 累计执行 the total from January to the month."""

    INITIAL = "initial", "年初预算"
    ADJUSTED = "adjusted", "调整预算"
    EXECUTION = "execution", "本月执行"
    CUMULATIVE = "cumulative", "累计执行"
    FINAL = "final", "决算"


# Words people write in the 阶段 column for each phase.
PHASE_ALIASES = {
    "年初预算": Phase.INITIAL,
    "年初预算数": Phase.INITIAL,
    "批复预算": Phase.INITIAL,
    "调整预算": Phase.ADJUSTED,
    "调整预算数": Phase.ADJUSTED,
    "执行": Phase.EXECUTION,
    "本月执行": Phase.EXECUTION,
    "本月执行数": Phase.EXECUTION,
    "累计执行": Phase.CUMULATIVE,
    "累计执行数": Phase.CUMULATIVE,
    "决算": Phase.FINAL,
    "决算数": Phase.FINAL,
}

BUDGET_ALIASES = {label: value for value, label in BudgetKind.choices} | {
    "一般公共": BudgetKind.GENERAL,
    "政府性基金": BudgetKind.FUND,
    "国有资本经营": BudgetKind.STATE_CAPITAL,
    "社会保险基金": BudgetKind.SOCIAL_INSURANCE,
    "社保基金预算": BudgetKind.SOCIAL_INSURANCE,
}


class BatchFormat(models.TextChoices):
    LONG = "long", "长表模板"
    WIDE = "wide", "执行情况表"


class BatchStatus(models.TextChoices):
    ACTIVE = "active", "有效"
    SUPERSEDED = "superseded", "已被替换"


class Measure(models.TextChoices):
    """What a cited figure shows: a stored phase or a derived measure."""

    INITIAL = "initial", "年初预算数"
    ADJUSTED = "adjusted", "调整预算数"
    MONTH = "month", "本月执行数"
    CUMULATIVE = "cumulative", "累计执行数"
    FINAL = "final", "决算数"
    EXECUTION_RATE = "execution_rate", "执行率"
    TIME_PROGRESS = "time_progress", "序时进度"
    PROGRESS_GAP = "progress_gap", "进度差"
    PRIOR_CUMULATIVE = "prior_cumulative", "上年同期累计执行数"
    YOY = "yoy", "同比增长"


PERCENT_MEASURES = {
    Measure.EXECUTION_RATE,
    Measure.TIME_PROGRESS,
    Measure.PROGRESS_GAP,
    Measure.YOY,
}

# 三公经费 in the economic classification (domain.md §7): 302-12 因公出国（境）费,
# 302-17 公务接待费, 310-13 公务用车购置, 302-31 公务用车运行维护费.
THREE_PUBLIC_CODES = {
    "30212": "因公出国（境）费",
    "30217": "公务接待费",
    "31013": "公务用车购置费",
    "30231": "公务用车运行维护费",
}
