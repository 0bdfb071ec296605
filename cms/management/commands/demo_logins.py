from django.core.management.base import BaseCommand

from cms.demo import demo_logins_text


class Command(BaseCommand):
    help = "打印演示账号。"

    def handle(self, *args, **options):
        self.stdout.write(demo_logins_text())
