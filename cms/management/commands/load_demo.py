from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cms.dbstats import refresh_statistics
from cms.demo import demo_logins_text, load_demo


class Command(BaseCommand):
    help = "载入演示数据（可重复执行，不会重复创建）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--background",
            action="store_true",
            help="只载入网站运行所需的部分；代表建议演示数据、检索索引和演示归档交给 Celery worker 在网站启动后完成"
            "（make run 使用此选项），完成前首页会列出仍在准备的内容。",
        )

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError(
                "生产环境不载入演示数据：演示账号的密码是公开的。请用 createsuperuser 建立第一个系统管理员。"
            )
        created = load_demo(self.stdout, background=options["background"])
        refresh_statistics()
        if options["background"]:
            self.stdout.write(
                "代表建议演示数据、检索索引和演示归档已交给后台任务进程，网站启动后自动完成。"
            )
        if created:
            self.stdout.write(f"已创建演示账号：{', '.join(created)}")
        self.stdout.write(demo_logins_text())
