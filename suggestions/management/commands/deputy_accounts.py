"""Open 人大代表 accounts for the deputies of the register (all, or those an XLSX names)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from suggestions import accounts, importer


class Command(BaseCommand):
    help = "为代表名册中尚无账号的在任代表开通“人大代表”账号，并输出初始密码表（XLSX）。"

    def add_arguments(self, parser):
        parser.add_argument("--xlsx", help="只为此表（列：姓名、代表团）中的代表开通")
        parser.add_argument("--out", required=True, help="初始密码表的保存路径（.xlsx）")

    def handle(self, *args, **options):
        deputies = None
        if options["xlsx"]:
            try:
                data = Path(options["xlsx"]).read_bytes()
                header, body = importer.read_rows(data)
            except OSError as error:
                raise CommandError(f"无法读取文件：{error}") from error
            except ValueError as error:
                raise CommandError(str(error)) from error
            deputies, errors = accounts.deputies_from_rows(header, body)
            if errors:
                raise CommandError("；".join(errors))
        made = accounts.create_accounts(None, deputies)
        out = Path(options["out"])
        out.write_bytes(accounts.accounts_sheet(made).content)
        out.chmod(0o600)
        self.stdout.write(f"已开通 {len(made)} 个代表账号，初始密码表：{out}")
