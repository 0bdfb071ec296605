from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from archive import backup


class Command(BaseCommand):
    help = "重新读取并核验备份（默认核验全部备份）：每个文件的大小与摘要、数据库导出的行数。"

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="备份目录；省略时核验备份目录下的全部备份")

    def handle(self, *args, **options):
        paths = options["paths"] or [b.path for b in backup.list_backups()]
        if not paths:
            self.stdout.write("还没有备份。")
            return
        bad = 0
        for path in paths:
            check = backup.verify_backup(path)
            backup.record_verification(Path(path).name, check, "command")
            if check.ok:
                self.stdout.write(
                    f"完好：{path}（{check.files_checked} 个文件，"
                    f"{backup.human_size(check.bytes_checked)}）"
                )
            else:
                bad += 1
                self.stdout.write(f"有问题：{path}")
                for problem in check.problems:
                    self.stdout.write(f"  - {problem}")
        if bad:
            raise CommandError(f"{bad} 个备份未通过核验。")
