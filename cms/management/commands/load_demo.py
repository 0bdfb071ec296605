from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cms.demo import demo_logins_text, load_demo


class Command(BaseCommand):
    help = "载入演示数据（可重复执行，不会重复创建）。"

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError(
                "生产环境不载入演示数据：演示账号的密码是公开的。请用 createsuperuser 建立第一个系统管理员。"
            )
        created = load_demo(self.stdout)
        if created:
            self.stdout.write(f"已创建演示账号：{', '.join(created)}")
        self.stdout.write(demo_logins_text())
