from django.core.management.base import BaseCommand

from cms.demo import demo_logins_text, load_demo


class Command(BaseCommand):
    help = "载入演示数据（可重复执行，不会重复创建）。"

    def handle(self, *args, **options):
        created = load_demo(self.stdout)
        if created:
            self.stdout.write(f"已创建演示账号：{', '.join(created)}")
        self.stdout.write(demo_logins_text())
