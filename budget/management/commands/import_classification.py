import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from budget.classification import import_classification


class Command(BaseCommand):
    help = (
        "导入财政部政府收支分类科目表（支出功能分类、支出经济分类、收入分类），"
        "CSV 或 XLSX，列：科目编码、科目名称、可选科目类别；按年度保存，全部正确才入库"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV 或 XLSX 文件")
        parser.add_argument("--year", type=int, help="年度（标题和文件名中没有时必须指定）")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        result = import_classification(path.read_bytes(), path.name, options.get("year"))
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        elif result.ok:
            self.stdout.write(
                f"已导入 {result.year} 年科目表：{result.rows} 个科目，新增 {result.created}、"
                f"更新 {result.updated}、未变 {result.unchanged}"
                + (f"；库中另有 {result.kept} 个科目不在表中，已保留" if result.kept else "")
            )
        else:
            self.stderr.write(f"未导入（共 {len(result.errors)} 处错误，未保存任何科目）：")
            for error in result.errors:
                where = f"第 {error.row} 行：" if error.row else ""
                self.stderr.write(f"  {where}{error.message}")
        if not result.ok:
            sys.exit(1)
