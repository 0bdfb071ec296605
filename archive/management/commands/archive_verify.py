from django.core.management.base import BaseCommand, CommandError

from archive.fixity import verify_all


class Command(BaseCommand):
    help = "重新计算全部归档文件的摘要，报告缺失或被改动的文件（结果保存为完整性核验报告）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-notify", action="store_true", help="发现问题时不通知档案员（仅输出报告）"
        )

    def handle(self, *args, **options):
        report = verify_all(trigger="命令行核验", notify_on_problem=not options["no_notify"])
        self.stdout.write(f"核验 {report.files_checked} 个文件。")
        for entry in report.missing:
            self.stdout.write(f"缺失：{entry['file']}")
        for entry in report.altered:
            self.stdout.write(f"被改动：{entry['file']}")
        if not report.ok:
            raise CommandError(
                f"完整性核验发现问题：缺失 {len(report.missing)} 个，被改动 {len(report.altered)} 个"
                f"（报告编号 {report.pk}）。"
            )
        self.stdout.write(self.style.SUCCESS("全部文件完好。"))
