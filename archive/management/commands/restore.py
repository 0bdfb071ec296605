import json

from django.core.management.base import BaseCommand, CommandError

from archive import backup


class Command(BaseCommand):
    help = (
        "从备份恢复到空实例：先核验全部摘要，再在一个事务中载入记录、复制文件，最后重建检索索引。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="备份目录，例如 var/backups/2026-11")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")
        parser.add_argument(
            "--no-index", action="store_true", help="不重建检索索引（之后请手动 update_index）"
        )

    def handle(self, *args, **options):
        try:
            result = backup.restore_backup(
                options["path"],
                rebuild_index=not options["no_index"],
                stdout=None if options["json"] else self.stdout,
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        s = result.summary
        if options["json"]:
            self.stdout.write(json.dumps(s, ensure_ascii=False, indent=1))
            return
        self.stdout.write(f"恢复完成：{s['path']}")
        self.stdout.write(f"  数据库记录 {s['rows']} 条，与备份清单逐表核对一致")
        for label, n in s["rows_per_model"].items():
            self.stdout.write(f"    {label}: {n}")
        self.stdout.write(f"  文件 {s['files']} 个，{backup.human_size(s['bytes'])}")
        self.stdout.write(f"  记录摘要 SHA-256：{s['records_sha256']}")
        self.stdout.write(f"  用时（秒）：{s['timings']}")
