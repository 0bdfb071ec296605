"""manage.py search_index_check [--repair] [--json]: compare the search index with the database.

Works for both search backends: the Whoosh index in DATA_DIR (search.integrity) and the
PostgreSQL index table (search.pg_integrity)."""

import json

from django.core.management.base import BaseCommand
from modelsearch.backends import get_search_backend

from search import integrity, pg_integrity
from search.backend import SearchBackend
from search.pg_backend import SegmentedPostgresSearchBackend


class Command(BaseCommand):
    help = "检查全文检索索引与数据库是否一致（缺失、过期、孤立、重复条目）；加 --repair 自动修复。"

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="修复发现的差异")
        parser.add_argument("--backend", default="default", help="检索后端名称（默认 default）")
        parser.add_argument(
            "--json", action="store_true", help="以 JSON 输出检查结果（供脚本读取）"
        )

    def handle(self, *args, **options):
        backend = get_search_backend(options["backend"])
        if isinstance(backend, SearchBackend):
            module = integrity
        elif isinstance(backend, SegmentedPostgresSearchBackend):
            module = pg_integrity
        else:
            self.stderr.write("当前检索后端不是本项目的 Whoosh 或 PostgreSQL 索引，无法检查。")
            raise SystemExit(2)
        report = module.check(backend)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            if not report.ok and not options["repair"]:
                raise SystemExit(1)
        else:
            self._print(report)
        if report.ok:
            if not options["json"]:
                self.stdout.write(self.style.SUCCESS("索引与数据库一致。"))
            return
        if not options["repair"]:
            self.stdout.write(self.style.WARNING("发现差异；使用 --repair 修复。"))
            raise SystemExit(1)
        if not report.version_ok:
            from django.core.management import call_command

            self.stdout.write("索引结构版本不符，正在全量重建……")
            call_command("update_index", backend_name=options["backend"], verbosity=0)
        else:
            changes = module.repair(backend, report)
            self.stdout.write(f"已修复 {changes} 条索引记录。")
        after = module.check(backend)
        self._print(after)
        if after.ok:
            self.stdout.write(self.style.SUCCESS("修复完成，索引与数据库一致。"))
        else:
            self.stdout.write(self.style.ERROR("修复后仍有差异，请查看日志。"))
            raise SystemExit(1)

    def _print(self, report):
        if not report.version_ok:
            self.stdout.write("索引结构版本：不符（需要全量重建）")
        if report.pending_batches:
            self.stdout.write(f"待写入的延迟批次：{report.pending_batches}")
        for item in report.models:
            self.stdout.write(
                f"{item.verbose_name}（{item.label}）：应索引 {item.expected}，已索引 {item.indexed}，"
                f"缺失 {len(item.missing)}，过期 {len(item.stale)}，孤立 {len(item.orphaned)}，"
                f"重复 {len(item.duplicated)}"
            )
