import json

from django.core.management.base import BaseCommand, CommandError

from budget.amounts import format_percent, format_wan
from budget.choices import BUDGET_ALIASES, BudgetKind, ClassificationKind
from budget.measures import execution_table


class Command(BaseCommand):
    help = "打印预算执行情况：科目编码、科目名称、调整预算数、累计执行数（万元）和执行率"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="年度")
        parser.add_argument("--month", type=int, required=True, help="截至月份（1-12）")
        parser.add_argument("--budget", default="一般公共预算", help="预算类型（默认一般公共预算）")
        parser.add_argument(
            "--kind",
            default=ClassificationKind.FUNCTION,
            choices=ClassificationKind.values,
            help="科目分类（默认支出功能分类）",
        )
        parser.add_argument("--parent", default="", help="只列出此科目的下级科目")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出")

    def handle(self, *args, **options):
        if not 1 <= options["month"] <= 12:
            raise CommandError("月份必须在 1 到 12 之间")
        budget = BUDGET_ALIASES.get(options["budget"]) or options["budget"]
        if budget not in BudgetKind.values:
            raise CommandError(f"预算类型“{options['budget']}”无效")
        rows = execution_table(
            options["year"],
            options["month"],
            budget,
            kind=options["kind"],
            parent=options["parent"],
            all_levels=not options["parent"],
        )
        if options["json"]:
            payload = [
                {
                    "code": r.code,
                    "name": r.name,
                    "level": r.level,
                    "adjusted_budget": format_wan(r.adjusted).replace(",", "") or None,
                    "cumulative": format_wan(r.cumulative).replace(",", "") or None,
                    "execution_rate": None
                    if r.execution_rate is None
                    else f"{r.execution_rate:.2f}",
                }
                for r in rows
            ]
            self.stdout.write(json.dumps(payload, ensure_ascii=False))
            return
        self.stdout.write(
            f"{options['year']}年1-{options['month']}月{BudgetKind(budget).label}执行情况（万元）"
        )
        self.stdout.write(
            f"{'科目编码':<9}{'科目名称':<20}{'调整预算数':>14}{'累计执行数':>14}{'执行率':>9}"
        )
        for r in rows:
            indent = "  " * r.level
            self.stdout.write(
                f"{r.code:<11}{indent + r.name:<22}{format_wan(r.adjusted):>16}"
                f"{format_wan(r.cumulative):>16}{format_percent(r.execution_rate):>11}"
            )
        if not rows:
            self.stdout.write("（所选期间没有数据）")
