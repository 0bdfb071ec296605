"""Compile the project's own translations (LOCALE_PATHS) with GNU msgfmt.

Django's compilemessages walks every ``locale`` folder under the current directory
(including a virtualenv's); this compiles only the project's files, and says in Chinese
what to install when msgfmt is missing. Run at install (``make run`` / ``make test``)."""

import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "编译本项目的翻译文件（locale/*/LC_MESSAGES/*.po → .mo）"

    def handle(self, *args, **options):
        msgfmt = shutil.which("msgfmt")
        if msgfmt is None:
            raise CommandError(
                "找不到 msgfmt，无法编译翻译文件；请先运行：apt-get install -y gettext"
            )
        compiled = 0
        for folder in settings.LOCALE_PATHS:
            for po in sorted(Path(folder).glob("*/LC_MESSAGES/*.po")):
                mo = po.with_suffix(".mo")
                result = subprocess.run(
                    [msgfmt, "--check-format", "-o", str(mo), str(po)],
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                if result.returncode != 0:
                    raise CommandError(f"翻译文件 {po} 有错误：{result.stderr.strip()}")
                compiled += 1
        self.stdout.write(f"已编译 {compiled} 个翻译文件")
