import json

from django.core.management.base import BaseCommand, CommandError

from archive import backup


class Command(BaseCommand):
    help = "立即备份：导出数据库、复制媒体和档案文件、写清单并核验（见 docs/backup.md）。"

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args, **options):
        try:
            result = backup.run_backup(trigger="command")
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        s = result.summary
        if options["json"]:
            self.stdout.write(json.dumps(s, ensure_ascii=False, indent=1))
            return
        self.stdout.write(f"备份完成并通过核验：{s['path']}")
        self.stdout.write(
            f"  文件 {s['files']} 个（含数据库导出），共 {s['size']}（{s['bytes']} 字节）；"
            f"数据库记录 {s['rows']} 条"
        )
        self.stdout.write(
            f"  用时 {s['seconds']} 秒（导出 {s['export_seconds']}，复制 {s['copy_seconds']}，"
            f"核验 {s['verify_seconds']}）"
        )
        self.stdout.write(f"  记录摘要 SHA-256：{s['records_sha256']}")
        if s["removed_old"]:
            self.stdout.write(f"  按保留份数删除了旧备份：{'、'.join(s['removed_old'])}")
