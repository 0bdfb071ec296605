from django.core.management.base import BaseCommand

from cms.media_sweep import GRACE_SECONDS, sweep


class Command(BaseCommand):
    help = "列出（--move 时移出）没有任何记录引用的上传文件（进程在写入记录前中断留下的）"

    def add_arguments(self, parser):
        parser.add_argument("--move", action="store_true", help="移到 DATA_DIR/orphaned-media/")
        parser.add_argument(
            "--grace-hours",
            type=float,
            default=GRACE_SECONDS / 3600,
            help="只处理早于这么多小时的文件（默认 %(default)s）",
        )

    def handle(self, *args, move=False, grace_hours=6.0, **options):
        result = sweep(grace=grace_hours * 3600, move=move)
        for name in result.found:
            self.stdout.write(name)
        if not result.found:
            self.stdout.write("没有无人引用的上传文件。")
        elif result.moved_to is not None:
            self.stdout.write(f"已把 {len(result.found)} 个文件移到 {result.moved_to}")
        else:
            self.stdout.write(f"共 {len(result.found)} 个；加 --move 把它们移出媒体目录。")
