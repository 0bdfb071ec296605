import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from suggestions import importer, services
from suggestions.models import Session


class Command(BaseCommand):
    help = "导入代表建议交办清单（XLSX）：逐行检查，全部无误才导入"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--term", type=int, help="届次（表中没有“届次”列时）")
        parser.add_argument("--session", type=int, help="会次（表中没有“会次”列时）")
        parser.add_argument(
            "--user", default="", help="以哪个工作人员账号导入（默认第一个工作人员）"
        )
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args, **options):
        try:
            with open(options["file"], "rb") as fh:
                data = fh.read()
        except OSError as error:
            raise CommandError(f"无法打开文件：{error}") from error
        session = None
        if options["term"] or options["session"]:
            session = Session.objects.filter(
                term__number=options["term"], number=options["session"]
            ).first()
            if session is None:
                raise CommandError(f"找不到第{options['term']}届第{options['session']}次会议")
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
        else:
            user = next(iter(services.staff_users()), None)
        if user is None or not services.is_staff(user):
            raise CommandError("需要一个工作人员账号（--user）")
        result = importer.import_workbook(data, user=user, session=session)
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        elif result.ok:
            self.stdout.write(f"已导入 {len(result.created)} 件建议")
        else:
            for error in result.errors:
                self.stderr.write(str(error))
        if not result.ok:
            raise SystemExit(1)
