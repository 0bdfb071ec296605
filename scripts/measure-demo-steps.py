"""Wall and CPU time of each demo step on the instance in DATA_DIR (run after `manage.py migrate`).

    DATA_DIR=$(mktemp -d) .venv/bin/python manage.py migrate --noinput -v0
    DATA_DIR=... .venv/bin/python scripts/measure-demo-steps.py

Runs what plain `load_demo` runs (accounts, then every register_demo_loader hook in order), then
`update_index`, printing one line per step: wall seconds and CPU seconds of this process plus its
waited-for children (LibreOffice). Changes the instance: use a throwaway DATA_DIR.
"""

import os
import resource
import sys
import time
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from wagtail import hooks  # noqa: E402

from cms.demo import create_demo_accounts  # noqa: E402


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def step(name, run):
    wall, used = time.monotonic(), cpu()
    run()
    print(
        f"{name:<60} wall {time.monotonic() - wall:7.1f} s   cpu {cpu() - used:6.1f} s", flush=True
    )


step("accounts", create_demo_accounts)
for loader in hooks.get_hooks("register_demo_loader"):
    step(f"{loader.__module__}.{loader.__name__}", lambda loader=loader: loader(None))
step("update_index", lambda: call_command("update_index", stdout=StringIO()))
