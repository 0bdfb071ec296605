import getpass
import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from budget.choices import BUDGET_ALIASES, BudgetKind
from budget.importing import ImportOptions
from budget.services import run_import


class Command(BaseCommand):
    help = "导入预算数据表（长表模板 CSV/XLSX 或财政系统导出的执行情况表），全部正确才入库"

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV 或 XLSX 文件")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")
        parser.add_argument("--year", type=int, help="年度（标题和文件名中没有时）")
        parser.add_argument("--month", type=int, help="截至月份（标题和文件名中没有时）")
        parser.add_argument(
            "--budget",
            help="预算类型：" + "、".join(BudgetKind.labels) + " 或 " + "/".join(BudgetKind.values),
        )
        parser.add_argument("--user", help="以哪个账号的名义导入（默认记录操作系统用户）")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        budget = options.get("budget")
        if budget:
            budget = BUDGET_ALIASES.get(budget) or (budget if budget in BudgetKind.values else None)
            if budget is None:
                raise CommandError(f"预算类型“{options['budget']}”无效")
        user = None
        username = f"命令行（{getpass.getuser()}）"
        if options.get("user"):
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"账号 {options['user']} 不存在")
            if not user.has_perm("cms.upload_material"):
                raise CommandError(f"账号 {options['user']} 没有上传材料的权限")
            username = user.get_username()
        result = run_import(
            path.read_bytes(),
            path.name,
            ImportOptions(year=options.get("year"), month=options.get("month"), budget=budget),
            user=user,
            username=username,
        )
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            self._report(result)
        if not result.ok:
            sys.exit(1)

    def _report(self, result):
        if result.ok:
            changes = result.changes
            self.stdout.write(
                f"导入成功：第 {result.batch} 批，{result.rows} 行（{result.scope_label}）；"
                f"新增 {changes['added']}，变化 {changes['changed']}，删除 {changes['removed']}，"
                f"未变 {changes['unchanged']}"
            )
        else:
            self.stderr.write(f"导入失败，未写入任何数据。共 {len(result.errors)} 处错误：")
            for error in result.errors:
                where = f"第 {error.row} 行：" if error.row else ""
                self.stderr.write(f"  {where}{error.message}")
        for warning in result.warnings[:20]:
            self.stdout.write(f"  提示：第 {warning.row} 行：{warning.message}")
