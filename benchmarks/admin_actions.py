"""Benchmark of the admin sign-off path (issue 13 item 4, "Admin actions under a second"):
draft a briefing from data, open and save it in Wagtail's page editor, submit it to the
sign-off workflow, approve it as the office head (approval publishes it), and open and
publish a policy page.

    .venv/bin/python benchmarks/admin_actions.py                    # 10 rounds
    .venv/bin/python benchmarks/admin_actions.py --rounds 20
    .venv/bin/python benchmarks/admin_actions.py --repo /work/main  # the same run on other code
    .venv/bin/python benchmarks/admin_actions.py --profile approve  # cProfile of that action

What it does, in a temporary DATA_DIR (SQLite, deleted afterwards unless --keep) with the
default settings (cms.settings.onebox: DEBUG off, as deployed):

1. ``migrate``, ``collectstatic``, ``load_demo`` (plain, everything loaded in this process,
   search index included).
2. ``--rounds`` rounds, each through Django's test client with the demo accounts who may do
   the step (工作人员 ``staff`` drafts, ``head`` — 负责同志, the workflow's approver — approves):
   ``draft_from_data`` (POST /briefings/draft/ for the demo year's third quarter, what the
   schedule's button does), ``edit_briefing`` (GET the page editor of that draft),
   ``save_draft`` (POST the editor's form unchanged but the 编者按), ``submit`` (the same with
   提交审核), ``approve`` (the head's 批准, which publishes the issue: 第×期, push,
   renditions ordered), ``edit_policy`` and ``publish_policy`` (the editor of a demo policy
   page, its 摘要 changed, 发布). Between rounds, untimed, the published briefing is moved to
   another year and its scheduled item reopened, so each round drafts and publishes afresh.
3. Prints, per action: n, p50 / p95 / max wall ms, p50 / max CPU ms (this process), p50 and
   max SQL queries, and what the request left for later: on_commit callbacks (run after the
   commit, still inside the request) and Celery tasks queued, by name, and the inbox/e-mail
   rows written.

Celery: tasks are not run inline (CELERY_TASK_ALWAYS_EAGER is forced off); they go to the
filesystem broker under the temporary DATA_DIR, which no worker reads, as in production
where the worker runs them after the response. So the figures are what the request itself
costs. The machine is shared: quote CPU ms beside wall ms, and compare runs made side by side
(``--repo`` runs the code of another checkout with this script).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import html.parser
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 1000
ACTIONS = [
    "draft_from_data",
    "edit_briefing",
    "save_draft",
    "submit",
    "approve",
    "edit_policy",
    "publish_policy",
]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


# --- the editor's form ---------------------------------------------------------------------


class FormFields(html.parser.HTMLParser):
    """The fields of one <form id=…> as a browser would submit them (no JavaScript: the
    StreamFields are added from the page's value, see stream_data)."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.template_depth = 0
        self.data = collections.defaultdict(list)
        self._select = None
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
            return
        if not self.inside:
            return
        if tag == "template":
            self.template_depth += 1
        if self.template_depth:
            return
        name = attrs.get("name")
        if tag == "input" and name and "__prefix__" not in name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data[name].append(attrs.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name].append("")

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "template" and self.template_depth:
            self.template_depth -= 1
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and not self.template_depth:
            self.inside = False

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data


def block_data(block, state, prefix, out):
    """POST fields of one block from its form state (what Wagtail's JavaScript submits)."""
    from wagtail import blocks

    if isinstance(block, blocks.StreamBlock):
        out[f"{prefix}-count"] = [str(len(state))]
        for i, child in enumerate(state):
            out[f"{prefix}-{i}-type"] = [child["type"]]
            out[f"{prefix}-{i}-deleted"] = [""]
            out[f"{prefix}-{i}-order"] = [str(i)]
            out[f"{prefix}-{i}-id"] = [child.get("id") or ""]
            block_data(
                block.child_blocks[child["type"]], child["value"], f"{prefix}-{i}-value", out
            )
    elif isinstance(block, blocks.ListBlock):
        out[f"{prefix}-count"] = [str(len(state))]
        for i, child in enumerate(state):
            out[f"{prefix}-{i}-deleted"] = [""]
            out[f"{prefix}-{i}-order"] = [str(i)]
            out[f"{prefix}-{i}-id"] = [child.get("id") or ""]
            block_data(block.child_block, child["value"], f"{prefix}-{i}-value", out)
    elif isinstance(block, blocks.StructBlock):
        for name, child in block.child_blocks.items():
            block_data(child, state.get(name), f"{prefix}-{name}", out)
    elif isinstance(state, dict):  # a chooser: its id
        out[prefix] = [str(state.get("id") or "")]
    elif isinstance(state, bool):
        if state:
            out[prefix] = ["on"]
    elif isinstance(state, list):
        out[prefix] = [str(v) for v in state]
    else:
        out[prefix] = ["" if state is None else str(state)]


def editor_form(client, page, changes=None, action=None):
    """GET the page editor, return (response, POST data for it with *changes* applied)."""
    from wagtail.fields import StreamField

    url = f"/admin/pages/{page.pk}/edit/"
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parser = FormFields("page-edit-form")
    parser.feed(response.content.decode())
    data = dict(parser.data)
    latest = page.get_latest_revision_as_object()
    for field in type(page)._meta.get_fields():
        if isinstance(field, StreamField) and f"{field.name}-count" not in data:
            value = getattr(latest, field.name)
            block_data(
                field.stream_block, field.stream_block.get_form_state(value), field.name, data
            )
    for name, value in (changes or {}).items():
        data[name] = [value]
    if action:
        data[action] = ["1"]  # the button's value: Wagtail tests it is non-empty
    return response, data


# --- what a request leaves behind ---------------------------------------------------------


class Recorder:
    """Counts SQL queries, on_commit callbacks (and the time they take) and Celery tasks
    queued while active."""

    def __init__(self):
        self.active = False
        self.keep_sql = False
        self.reset()

    def install(self):
        from celery.signals import before_task_publish
        from django.db.backends.base.base import BaseDatabaseWrapper

        original = BaseDatabaseWrapper.on_commit
        recorder = self

        def on_commit(connection, func, robust=False):
            if recorder.active:
                name = callback_name(func)
                recorder.on_commit[name] += 1
                for label, *_pk in getattr(func, "refs", ()):  # search.indexing._PendingWrite
                    recorder.index_docs[label] += 1
                func = TimedCallback(func, name, recorder)
            return original(connection, func, robust)

        BaseDatabaseWrapper.on_commit = on_commit

        def published(sender=None, **kwargs):
            if recorder.active:
                recorder.tasks[str(sender)] += 1

        before_task_publish.connect(published, weak=False)

    def count_query(self, execute, sql, params, many, context):
        if self.active:
            self.queries += 1
            if self.keep_sql:
                self.sql[sql] += 1
        return execute(sql, params, many, context)

    def reset(self):
        self.queries = 0
        self.on_commit = collections.Counter()
        self.after_commit_ms = collections.Counter()
        self.index_docs = collections.Counter()
        self.tasks = collections.Counter()
        self.sql = collections.Counter()


class TimedCallback:
    """An on_commit callback that adds the time it takes to the recorder."""

    def __init__(self, func, name, recorder):
        self.func, self.name, self.recorder = func, name, recorder

    def __call__(self):
        started = time.perf_counter()
        try:
            return self.func()
        finally:
            self.recorder.after_commit_ms[self.name] += (time.perf_counter() - started) * 1000


def callback_name(func) -> str:
    name = getattr(func, "__qualname__", None) or type(func).__qualname__
    module = getattr(func, "__module__", None) or type(func).__module__
    return f"{module}.{name}".replace(".<locals>.", ":").replace("<lambda>", "λ")


# --- the run ------------------------------------------------------------------------------


def environment(args):
    if args.repo:
        repo = Path(args.repo).resolve()
        sys.path.insert(0, str(repo))
        os.chdir(repo)
    else:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.onebox")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = ""
    os.environ.pop("CELERY_BROKER_URL", None)


def prepare(args):
    """In a child process: migrate, collectstatic, load_demo (or only migrate a copy)."""
    environment(args)
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    if args.source:
        print(f"migrate + collectstatic on a copy of {args.source}: ", end="")
    else:
        from cms.demo import load_demo

        load_demo()
        print("migrate + collectstatic + load_demo: ", end="")
    print(f"{time.perf_counter() - started:.0f} s (another process)")


def boot(args):
    """This process is a fresh web worker: it imports cms.wsgi as gunicorn's worker does."""
    environment(args)
    started = time.perf_counter()
    import cms.wsgi  # noqa: F401 (django.setup and whatever the project does at boot)

    print(f"worker boot (import cms.wsgi): {(time.perf_counter() - started) * 1000:.0f} ms")
    from django.conf import settings

    settings.DEBUG = False  # measured as deployed, without DEBUG's query log
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from cms.celery import app

    app.conf.task_always_eager = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


class Scenario:
    def __init__(self):
        from django.contrib.auth import get_user_model
        from django.test import Client

        from briefings.demo import PUBLISHED  # noqa: F401 (the demo's briefings exist)
        from briefings.models import BriefingPage, MaterialType
        from budget.demo import demo_period
        from policies.models import PolicyPage

        User = get_user_model()
        self.staff_user = User.objects.get(username="staff")
        self.head_user = User.objects.get(username="head")
        self.staff = Client()
        self.staff.force_login(self.staff_user)
        self.head = Client()
        self.head.force_login(self.head_user)
        self.year, _month = demo_period()
        self.material_type = MaterialType.objects.get(code="quarterly-briefing")
        self.period = 3
        self.policy = PolicyPage.objects.live().order_by("-pk").first()
        self.page = None
        self.moved = 0
        self.BriefingPage = BriefingPage
        self.move_aside()

    def move_aside(self):
        """Untimed: the period's published briefing goes to another year, its scheduled
        item is reopened, so the next round drafts and publishes a new issue."""
        from wagtail.models import Page

        from briefings.models import ScheduledItem

        for page in self.BriefingPage.objects.filter(
            material_type=self.material_type, year=self.year, period=self.period
        ):
            self.moved += 1
            Page.objects.filter(pk=page.pk).update(slug=f"moved-aside-{page.pk}")
            self.BriefingPage.objects.filter(pk=page.pk).update(year=1900 + self.moved)
        ScheduledItem.objects.filter(
            material_type=self.material_type, year=self.year, period=self.period
        ).update(status="open", briefing=None, done_at=None, is_late=False)

    def step(self, name, round_no):
        return getattr(self, name)(round_no)

    def draft_from_data(self, round_no):
        response = self.staff.post(
            "/briefings/draft/",
            {"type": self.material_type.code, "year": self.year, "period": self.period},
        )
        assert response.status_code == 302 and "/admin/pages/" in response["Location"], response
        self.page = self.BriefingPage.objects.get(
            material_type=self.material_type, year=self.year, period=self.period
        )
        return response

    def edit_briefing(self, round_no):
        response = self.staff.get(f"/admin/pages/{self.page.pk}/edit/")
        assert response.status_code == 200
        return response

    def save_draft_data(self):
        return editor_form(self.staff, self.page, {"editor_note": "编者按：草稿已修改。"})[1]

    def submit_data(self):
        return editor_form(
            self.staff, self.page, {"editor_note": "编者按：请负责同志审核。"}, "action-submit"
        )[1]

    def publish_policy_data(self, round_no):
        return editor_form(
            self.staff, self.policy, {"summary": f"摘要（第{round_no}次修改）"}, "action-publish"
        )[1]


def check_editor_post(response, what):
    if response.status_code != 302:
        text = response.content.decode(errors="replace")
        errors = [line.strip() for line in text.splitlines() if "error" in line.lower()][:8]
        raise SystemExit(
            f"{what}: HTTP {response.status_code}, form refused:\n" + "\n".join(errors)
        )


def run(args, profile=None):
    from django.db import connection
    from django.urls import reverse

    from cms.notifications.models import Message

    recorder = Recorder()
    recorder.install()
    recorder.keep_sql = bool(args.sql)
    scenario = Scenario()
    print(
        f"database: {connection.vendor}; rounds: {args.rounds}; briefing: "
        f"{scenario.material_type.name} {scenario.year} 第{scenario.period}期间; policy page: "
        f"《{scenario.policy.title}》 ({len(scenario.policy.body_text)} chars)"
    )
    results = {name: [] for name in ACTIONS}
    follow = {name: [] for name in ACTIONS}
    sql = collections.Counter()
    profiler = cProfile.Profile() if profile else None

    def timed(name, client, call, *call_args):
        recorder.reset()
        messages_before = Message.objects.count()
        recorder.active = True
        with connection.execute_wrapper(recorder.count_query):
            if profiler and name == profile:
                profiler.enable()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            response = call(*call_args)
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            if profiler and name == profile:
                profiler.disable()
        recorder.active = False
        results[name].append(
            {
                "wall": wall * 1000,
                "cpu": cpu * 1000,
                "queries": recorder.queries,
                "after_commit": sum(recorder.after_commit_ms.values()),
                "after_commit_by": recorder.after_commit_ms,
                "on_commit": recorder.on_commit,
                "index_docs": recorder.index_docs,
                "tasks": recorder.tasks,
                "messages": Message.objects.count() - messages_before,
            }
        )
        if name == args.sql:
            sql.update(recorder.sql)
        if response.status_code == 302:  # what the browser shows next: part of the click
            cpu0, wall0 = time.process_time(), time.perf_counter()
            shown = client.get(response["Location"])
            follow[name].append(
                {
                    "wall": (time.perf_counter() - wall0) * 1000,
                    "cpu": (time.process_time() - cpu0) * 1000,
                    "url": response["Location"].split("?")[0],
                    "status": shown.status_code,
                }
            )
        return response

    staff, head = scenario.staff, scenario.head
    for round_no in range(1, args.rounds + 1):
        timed("draft_from_data", staff, scenario.draft_from_data, round_no)
        timed("edit_briefing", staff, scenario.edit_briefing, round_no)
        data = scenario.save_draft_data()
        page_url = f"/admin/pages/{scenario.page.pk}/edit/"
        response = timed("save_draft", staff, staff.post, page_url, data)
        check_editor_post(response, "save_draft")
        data = scenario.submit_data()
        response = timed("submit", staff, staff.post, page_url, data)
        check_editor_post(response, "submit")
        scenario.page.refresh_from_db()
        state = scenario.page.current_workflow_task_state
        assert state is not None, "submit did not start the workflow"
        approve_url = reverse(
            "wagtailadmin_pages:workflow_action", args=[scenario.page.pk, "approve", state.pk]
        )
        response = timed("approve", head, head.post, approve_url)
        assert response.status_code in (200, 302), response.status_code
        scenario.page.refresh_from_db()
        assert scenario.page.live and scenario.page.issue_number, "approval did not publish"
        policy_url = f"/admin/pages/{scenario.policy.pk}/edit/"
        timed("edit_policy", staff, staff.get, policy_url)
        data = scenario.publish_policy_data(round_no)
        response = timed("publish_policy", staff, staff.post, policy_url, data)
        check_editor_post(response, "publish_policy")
        scenario.policy.refresh_from_db()
        assert scenario.policy.summary.startswith(f"摘要（第{round_no}次"), "policy not published"
        scenario.move_aside()

    if profiler:
        print(f"cProfile of {profile} ({args.rounds} requests), by cumulative time:")
        stats = pstats.Stats(profiler).strip_dirs().sort_stats("cumulative")
        stats.print_stats(args.profile_lines)
        print("by own time:")
        stats.sort_stats("tottime").print_stats(25)
        return
    report(results, follow)
    if args.sql:
        print(f"SQL of {args.sql} run more than once a request ({args.rounds} requests):")
        for statement, count in sql.most_common():
            if count > args.rounds:
                print(f"  {count / args.rounds:5.1f} × {statement[:160]}")


def report(results, follow):
    print(
        "wall and CPU in ms over all rounds; 'first' is round 1, the first request of its kind "
        "in this worker; 'after commit' is the part of wall spent in on_commit callbacks "
        "(still inside the request)"
    )
    print(
        f"{'action':16s} {'n':>3s} {'first':>6s} {'p50':>6s} {'p95':>6s} {'max':>6s} {'CPU p50':>7s} "
        f"{'CPU max':>7s} {'after commit p50':>16s} {'SQL':>4s} {'msgs':>4s}  "
        f"p95 ≤ {TARGET_MS}"
    )
    for name in ACTIONS:
        rows = results[name]
        if not rows:
            continue
        walls = [r["wall"] for r in rows]
        cpus = [r["cpu"] for r in rows]
        p95 = percentile(walls, 0.95)
        print(
            f"{name:16s} {len(rows):3d} {walls[0]:6.0f} {statistics.median(walls):6.0f} {p95:6.0f} "
            f"{max(walls):6.0f} {statistics.median(cpus):7.0f} {max(cpus):7.0f} "
            f"{statistics.median(r['after_commit'] for r in rows):16.0f} "
            f"{statistics.median(r['queries'] for r in rows):4.0f} "
            f"{max(r['messages'] for r in rows):4d}  {'OK' if p95 <= TARGET_MS else 'OVER'}"
        )
    print("the page the browser is sent to next (the rest of the click):")
    for name in ACTIONS:
        rows = follow[name]
        if not rows:
            continue
        walls = [r["wall"] for r in rows]
        clicks = [r["wall"] + a["wall"] for r, a in zip(rows, results[name], strict=False)]
        print(
            f"  {name:16s} → {rows[0]['url']:28s} HTTP {rows[0]['status']}  "
            f"p50 {statistics.median(walls):5.0f}  p95 {percentile(walls, 0.95):5.0f}  "
            f"CPU p50 {statistics.median(r['cpu'] for r in rows):5.0f};  "
            f"whole click p95 {percentile(clicks, 0.95):5.0f}"
        )
    print("left for later, per request (max over rounds; after-commit ms is the p50):")
    for name in ACTIONS:
        rows = results[name]
        callbacks, tasks, docs = collections.Counter(), collections.Counter(), collections.Counter()
        for r in rows:
            callbacks |= r["on_commit"]
            tasks |= r["tasks"]
            docs |= r["index_docs"]
        if not (callbacks or tasks):
            continue
        print(f"  {name}:")
        for callback, count in sorted(callbacks.items()):
            spent = statistics.median(r["after_commit_by"].get(callback, 0) for r in rows)
            print(f"    on_commit   {count:3d} × {callback}  ({spent:.0f} ms)")
        if docs:
            print("    index docs  " + ", ".join(f"{n} × {label}" for label, n in docs.items()))
        for task, count in sorted(tasks.items()):
            print(f"    Celery task {count:3d} × {task}  (queued, not run: no worker)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repo", help="run the code of this checkout (default: this one)")
    parser.add_argument("--profile", choices=ACTIONS, help="cProfile this action instead")
    parser.add_argument("--profile-lines", type=int, default=45)
    parser.add_argument(
        "--sql", choices=ACTIONS, help="also list the statements this action runs repeatedly"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary DATA_DIR")
    parser.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        help="copy this DATA_DIR (one kept with --keep before any round ran, or made by "
        "load_demo) instead of loading the demo: quicker, for repeated runs",
    )
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:  # the child process of main()
        prepare(args)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="admin-actions-"))
    if args.source:
        shutil.copytree(args.source, data_dir, dirs_exist_ok=True)
    os.environ["DATA_DIR"] = str(data_dir)
    print(f"DATA_DIR={data_dir}  code: {args.repo or ROOT}")
    try:
        subprocess.run([sys.executable, __file__, "--prepare", *sys.argv[1:]], check=True)
        boot(args)
        run(args, profile=args.profile)
    finally:
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
