"""manage.py search_index_check [--repair]: compare the search index with the database."""

from django.core.management.base import BaseCommand
from modelsearch.backends import get_search_backend

from search.backend import SearchBackend
from search.integrity import check, repair


class Command(BaseCommand):
    help = "检查全文检索索引与数据库是否一致（缺失、过期、孤立条目）；加 --repair 自动修复。"

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="修复发现的差异")
        parser.add_argument("--backend", default="default", help="检索后端名称（默认 default）")

    def handle(self, *args, **options):
        backend = get_search_backend(options["backend"])
        if not isinstance(backend, SearchBackend):
            self.stderr.write("当前检索后端不是本项目的 Whoosh 索引，无需检查。")
            return
        report = check(backend)
        self._print(report)
        if report.ok:
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
            changes = repair(backend, report)
            self.stdout.write(f"已修复 {changes} 条索引记录。")
        after = check(backend)
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
                f"缺失 {len(item.missing)}，过期 {len(item.stale)}，孤立 {len(item.orphaned)}"
            )
