"""Scale-out run: 2 web processes and 2 Celery workers on PostgreSQL + Redis, with imports,
edits and searches running together for a bounded time (issue 19, item 4).

    .venv/bin/python benchmarks/scaleout.py --duration 120
    .venv/bin/python benchmarks/scaleout.py --duration 60 --search-backend whoosh

Everything runs on 127.0.0.1 under a throw-away PostgreSQL database (created on
``--postgres``, dropped at the end), a Redis database number of its own (``--redis``,
flushed at the start and the end) and a temporary DATA_DIR:

1. ``migrate``, ``load_demo``, ``update_index`` (as ``make run-scaleout``), then
   ``--statutes`` whole statutes from the law corpus imported and published: the pages
   the editors edit.
2. Two gunicorn masters, each exactly the ``Procfile``'s ``web`` line on its own port,
   two Celery workers (its ``worker`` line, distinct hostnames) and one beat.
3. For ``--duration`` seconds, together:
   * imports: ``import_policies --publish`` of further statutes as a subprocess, and the
     demo 工作人员 uploading statutes through 上传政策法规 (the workers extract them);
   * edits: ``--editors`` threads of 工作人员 editing statute pages in the Wagtail admin
     and publishing them (an article added, the next time removed; the summary
     changed, the 主题词 压力测试 added or taken back), alternating between the two web
     processes;
   * searches: ``--searchers`` threads searching on both web processes.
4. Waits until the uploads are finished and the Redis queue is empty, stops everything,
   then runs ``search_index_check --json`` and prints requests per kind, every error,
   documents imported, edits made and, per indexed model, database rows against index
   entries with missing / stale / orphaned / duplicated ones.

Exit status 1 on any error (HTTP ≥ 500, a refused edit, a failed import, an exception)
or any difference between the index and the database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from load import (  # noqa: E402
    SEARCHES,
    log,
    login,
    manage,
    pick_laws,
    procfile_commands,
    start,
    stop,
    wait_for,
)

STAFF = ("staff", "Staff-2026!")
QUERIES = [query for group in SEARCHES.values() for query in group]


class FormFields(HTMLParser):
    """The values a browser would submit from the form with id ``form_id``."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea = None
        self._select = None
        self._option = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = attrs.get("name") or ""
        if tag == "input" and name and "__prefix__" not in name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file", "radio", "range"):
                return
            if kind == "checkbox" and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "textarea" and name and "__prefix__" not in name:
            self._textarea = [name, ""]
        elif tag == "select" and name and "__prefix__" not in name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.append((self._select, attrs.get("value", "")))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self.fields.append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select":
            self._select = None


def edit_form(html: str) -> list[tuple[str, str]]:
    parser = FormFields("page-edit-form")
    parser.feed(html)
    return parser.fields


class Run:
    """Counters and errors shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = Counter()
        self.errors: list[str] = []
        self.edits = 0
        self.uploads: list[tuple[str, str]] = []  # (base, batch)
        self.retried = Counter()

    def get(self, kind: str, session, url: str, **kwargs):
        """GET as a browser sends it: once more when the server closed the kept-alive
        connection just as the request went out ("Connection aborted" before any response:
        gunicorn's gthread worker closing an idle keep-alive connection, benoitc/gunicorn
        #1698). Such retries are counted and printed; a second failure is an error, and a
        web worker that really died shows in its log, which is checked too."""
        try:
            return session.get(url, **kwargs)
        except requests.ConnectionError as exc:
            if "Connection aborted" not in str(exc):
                raise
            with self.lock:
                self.retried[kind] += 1
            return session.get(url, **kwargs)

    def count(self, kind: str, response=None, problem: str = ""):
        with self.lock:
            self.requests[kind] += 1
            if response is not None and response.status_code >= 500:
                problem = f"HTTP {response.status_code} {urlsplit(response.url).path}"
            if problem:
                self.errors.append(f"{kind}: {problem}")

    def error(self, kind: str, exc: Exception):
        reason = re.sub(r"0x[0-9a-f]+", "…", str(exc))[:200]
        self.count(kind, problem=f"{type(exc).__name__} ({reason})")


def searcher(run: Run, bases, number, stop_at, seed):
    rng = random.Random(seed + number)
    sessions = [login(base, *STAFF) for base in bases]
    turn = number
    while time.monotonic() < stop_at:
        turn += 1
        base, session = bases[turn % 2], sessions[turn % 2]
        try:
            response = run.get(
                "search", session, f"{base}/search/", params={"q": rng.choice(QUERIES)}, timeout=60
            )
            run.count("search", response)
        except requests.RequestException as exc:
            run.error("search", exc)


def edit_once(run: Run, base: str, session, page_id: int, token: str) -> None:
    """Open the page in the admin, add (or take back) one article, publish."""
    url = f"{base}/admin/pages/{page_id}/edit/"
    response = run.get("edit_form", session, url, timeout=60)
    run.count("edit_form", response)
    if response.status_code != 200:
        run.count("edit", problem=f"编辑页 HTTP {response.status_code}")
        return
    fields = edit_form(response.text)
    names = {name for name, _ in fields}
    if "body_text" not in names:
        run.count("edit", problem=f"页面 {page_id} 的编辑表单里没有正文")
        return
    data = []
    for name, value in fields:
        if name == "body_text":
            lines = value.rstrip("\n").split("\n")
            if lines and "压力测试增补" in lines[-1]:
                lines = lines[:-1]  # take back the article added last time
            else:
                lines.append(f"第九百九十九条 压力测试增补条款 {token}。")
            value = "\n".join(lines) + "\n"
        elif name == "summary":
            value = f"压力测试摘要 {token}"
        elif name == "keywords":  # 主题词: added, the next time taken back
            words = [w.strip() for w in value.split(",") if w.strip()]
            words = (
                [w for w in words if w != "压力测试"]
                if "压力测试" in words
                else [*words, "压力测试"]
            )
            value = ", ".join(words)
        data.append((name, value))
    if "cited_figures-count" not in names:
        data.append(("cited_figures-count", "0"))  # the empty StreamField a browser posts
    data.append(("action-publish", "action-publish"))
    response = session.post(url, data=data, headers={"Referer": url}, timeout=120,
                            allow_redirects=False)  # fmt: skip
    run.count("edit", response)
    if response.status_code == 302:
        with run.lock:
            run.edits += 1
    elif response.status_code < 500:
        messages = re.findall(r'class="error-message"[^>]*>\s*<span>([^<]+)', response.text)
        messages += re.findall(r'<p class="error-message">([^<]+)', response.text)
        run.count(
            "edit", problem=f"编辑被拒（HTTP {response.status_code}）：{'；'.join(messages)[:160]}"
        )


def editor(run: Run, bases, number, pages, stop_at, seed):
    rng = random.Random(seed + 100 + number)
    sessions = [login(base, *STAFF) for base in bases]
    turn = number
    while time.monotonic() < stop_at:
        turn += 1
        try:
            edit_once(run, bases[turn % 2], sessions[turn % 2], rng.choice(pages),
                      f"e{number}t{turn}")  # fmt: skip
        except requests.RequestException as exc:
            run.error("edit", exc)


def uploader(run: Run, bases, files, stop_at):
    sessions = [login(base, *STAFF) for base in bases]
    for turn, path in enumerate(files):
        if time.monotonic() >= stop_at:
            return
        base, session = bases[turn % 2], sessions[turn % 2]
        url = f"{base}/admin/policies/upload/"
        try:
            run.get("upload_form", session, url, timeout=60)
            response = session.post(
                url,
                data={"csrfmiddlewaretoken": session.cookies.get("csrftoken", ""), "publish": "1"},
                files={"files": (path.name, path.read_bytes(), "text/markdown")},
                headers={"Referer": url},
                timeout=120,
                allow_redirects=False,
            )
            run.count("upload", response)
            batch = re.search(r"batch=([\w-]+)", response.headers.get("Location", ""))
            if response.status_code != 302 or not batch:
                run.count("upload", problem=f"上传未被接受（HTTP {response.status_code}）")
                continue
            with run.lock:
                run.uploads.append((base, batch.group(1)))
        except requests.RequestException as exc:
            run.error("upload", exc)
        time.sleep(2)


def importer(run: Run, repo, env, folder: Path, stop_at, result: dict, chunk: int = 3):
    """``import_policies --publish --json`` as a subprocess, ``chunk`` statutes at a time,
    until the files or the time run out; its JSON lines counted."""
    began = time.monotonic()
    statuses = Counter()
    files = sorted(folder.glob("*.md"))
    runs = 0
    for start_at in range(0, len(files), chunk):
        if time.monotonic() >= stop_at:
            break
        part = folder / f"part-{start_at // chunk:03d}"
        part.mkdir()
        for path in files[start_at : start_at + chunk]:
            path.rename(part / path.name)
        completed = subprocess.run(
            [str(repo / ".venv/bin/python"), "manage.py", "import_policies", str(part),
             "--publish", "--json"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        runs += 1
        for line in completed.stdout.splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            statuses[row.get("status")] += 1
            if row.get("status") == "error":
                run.count("import", problem=f"{row.get('file')}: {row.get('error')}")
        if completed.returncode:
            run.count("import", problem=f"import_policies 退出码 {completed.returncode}: "
                                        f"{completed.stderr.strip()[-300:]}")  # fmt: skip
    result.update(statuses=statuses, seconds=time.monotonic() - began, runs=runs)


def drain(run: Run, redis_url: str, timeout: float = 600) -> dict:
    """Wait until every upload batch is finished and the Redis queue is empty."""
    import redis

    client = redis.Redis.from_url(redis_url)
    sessions = {}
    deadline = time.monotonic() + timeout
    files = Counter()
    while time.monotonic() < deadline:
        files = Counter()
        unfinished = 0
        for base, batch in run.uploads:
            session = sessions.get(base) or sessions.setdefault(base, login(base, *STAFF))
            data = session.get(f"{base}/admin/policies/status/",
                               params={"batch": batch, "format": "json"}, timeout=60).json()  # fmt: skip
            unfinished += not data["finished"]
            for row in data["files"]:
                files[row["status"] if data["finished"] else "unfinished"] += 1
        queued = client.llen("celery") + client.hlen("unacked")
        if not unfinished and not queued:
            break
        time.sleep(2)
    else:
        run.count("drain", problem=f"队列 {timeout:.0f} 秒内未清空：{dict(files)}")
    for base, batch in run.uploads:
        session = sessions[base]
        data = session.get(f"{base}/admin/policies/status/",
                           params={"batch": batch, "format": "json"}, timeout=60).json()  # fmt: skip
        for row in data["files"]:
            if row["status"] not in ("created", "duplicate"):
                run.count(
                    "upload", problem=f"{row.get('file')}: {row['status']} {row.get('message')}"
                )
    return dict(files)


def policy_counts(repo, env) -> dict:
    code = (
        "import json; from policies.models import PolicyPage, PolicyArticle, PolicyFile;"
        "print(json.dumps({'pages': PolicyPage.objects.count(),"
        " 'live_pages': PolicyPage.objects.live().count(),"
        " 'articles': PolicyArticle.objects.count(), 'files': PolicyFile.objects.count()}))"
    )
    out = subprocess.run([str(repo / ".venv/bin/python"), "manage.py", "shell", "-c", code],
                         cwd=repo, env=env, capture_output=True, text=True, check=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def index_check(repo, env) -> tuple[int, dict | None, str]:
    completed = subprocess.run(
        [str(repo / ".venv/bin/python"), "manage.py", "search_index_check", "--json"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    report = None
    for line in completed.stdout.splitlines():
        if line.startswith("{"):
            report = json.loads(line)
    return completed.returncode, report, completed.stderr.strip()


def print_index(report: dict) -> int:
    print(f"{'model':<34}{'rows':>7}{'index':>7}{'missing':>9}{'stale':>7}{'orphan':>8}{'dup':>5}")
    problems = 0
    for model in report["models"]:
        counts = [len(model[k]) for k in ("missing", "stale", "orphaned", "duplicated")]
        problems += sum(counts)
        if model["expected"] or model["indexed"] or any(counts):
            print(f"{model['label']:<34}{model['expected']:>7}{model['indexed']:>7}"
                  + "".join(f"{c:>{w}}" for c, w in zip(counts, (9, 7, 8, 5), strict=True)))  # fmt: skip
        for key in ("missing", "stale", "orphaned", "duplicated"):
            if model[key]:
                print(
                    f"    {key}: {', '.join(model[key][:20])}{' …' if len(model[key]) > 20 else ''}"
                )
    print(f"{'(all)':<34}{report['expected']:>7}{report['indexed']:>7}   "
          f"problems {problems}, pending batches {report['pending_batches']}, "
          f"schema version {'ok' if report['version_ok'] else 'WRONG'}")  # fmt: skip
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=120)
    parser.add_argument("--statutes", type=int, default=12, help="statutes imported before")
    parser.add_argument("--import-statutes", type=int, default=30, help="imported during")
    parser.add_argument("--upload-statutes", type=int, default=20, help="uploaded during")
    parser.add_argument("--searchers", type=int, default=4)
    parser.add_argument("--editors", type=int, default=2)
    parser.add_argument("--port", type=int, default=8360)
    parser.add_argument("--search-backend", choices=["postgres", "whoosh"], default="postgres")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--corpus", default="/work/shared/corpus/laws")
    parser.add_argument("--repo", default=str(HERE.parent))
    parser.add_argument("--keep", action="store_true", help="keep the database and DATA_DIR")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 900 or not 1 <= args.searchers <= 16 or not 1 <= args.editors <= 8:
        parser.error("--duration up to 900 s, --searchers 1–16, --editors 1–8")
    for url in (args.postgres, args.redis):
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
            parser.error(f"only 127.0.0.1: {url}")

    import psycopg
    import redis

    repo = Path(args.repo).resolve()
    data_dir = Path(tempfile.mkdtemp(prefix="scaleout-"))
    database = f"scaleout_{os.getpid()}"
    admin_url = urlunsplit(urlsplit(args.postgres)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    redis.Redis.from_url(args.redis).flushdb()
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "cms.settings.onebox",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": urlunsplit(urlsplit(args.postgres)._replace(path=f"/{database}")),
        "CELERY_BROKER_URL": args.redis,
        "SEARCH_BACKEND": args.search_backend,
        "PORT": str(args.port),
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    processes: list[subprocess.Popen] = []
    failed = True
    try:
        began = time.monotonic()
        manage(repo, env, "migrate", "--noinput")
        manage(repo, env, "load_demo")
        manage(repo, env, "collectstatic", "--noinput")
        manage(repo, env, "update_index")
        laws = data_dir / "laws"
        wanted = args.statutes + args.import_statutes + args.upload_statutes
        pick_laws(Path(args.corpus), 10**9 if wanted else 0, laws)
        statutes = sorted(laws.glob("*.md"))[:wanted]
        if len(statutes) < wanted:
            raise SystemExit(f"语料里只有 {len(statutes)} 部法律，需要 {wanted} 部")
        random.Random(args.seed).shuffle(statutes)
        before, during, uploads = (
            statutes[: args.statutes],
            statutes[args.statutes : args.statutes + args.import_statutes],
            statutes[args.statutes + args.import_statutes :],
        )
        for name, group in (("before", before), ("during", during)):
            (laws / name).mkdir()
            for path in group:
                path.rename(laws / name / path.name)
        manage(repo, env, "import_policies", str(laws / "before"), "--publish")
        counts_before = policy_counts(repo, env)
        log(f"set up in {time.monotonic() - began:.0f} s: {counts_before}")

        web_ports = [args.port, args.port + 1]
        for port in web_ports:
            commands = procfile_commands(repo, {**env, "PORT": str(port)})
            processes.append(start(repo, env, commands["web"], data_dir / f"web-{port}.log"))
        for number in (1, 2):
            commands = procfile_commands(repo, {**env, "PORT": str(args.port + 10 + number)})
            processes.append(
                start(repo, env, commands["worker"], data_dir / f"worker-{number}.log")
            )
        processes.append(start(repo, env, procfile_commands(repo, env)["beat"],
                               data_dir / "beat.log"))  # fmt: skip
        bases = [f"http://127.0.0.1:{port}" for port in web_ports]
        for base in bases:
            wait_for(base)
        code = (
            "from policies.models import PolicyPage;"
            f"print(*PolicyPage.objects.live().order_by('-pk')[:{args.statutes}]"
            ".values_list('pk', flat=True))"
        )
        out = subprocess.run([str(repo / ".venv/bin/python"), "manage.py", "shell", "-c", code],
                             cwd=repo, env=env, capture_output=True, text=True, check=True)  # fmt: skip
        pages = [int(pk) for pk in out.stdout.strip().splitlines()[-1].split()]
        log(f"2 web ({', '.join(bases)}), 2 workers, 1 beat; {len(pages)} pages to edit; "
            f"{args.duration:.0f} s of {args.searchers} searchers, {args.editors} editors, "
            f"imports of {len(during)} statutes (3 a run), uploads of {len(uploads)}")  # fmt: skip

        run = Run()
        stop_at = time.monotonic() + args.duration
        import_result: dict = {}
        threads = [
            threading.Thread(target=searcher, args=(run, bases, n, stop_at, args.seed))
            for n in range(args.searchers)
        ]
        # each editor its own pages: two people editing one page at once is another test
        threads += [
            threading.Thread(
                target=editor, args=(run, bases, n, pages[n :: args.editors], stop_at, args.seed)
            )  # fmt: skip
            for n in range(args.editors)
        ]
        threads.append(threading.Thread(target=uploader, args=(run, bases, uploads, stop_at)))
        threads.append(threading.Thread(target=importer, args=(run, repo, env, laws / "during",
                                                               stop_at, import_result)))  # fmt: skip
        wall = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - wall
        log(f"load done in {wall:.0f} s; waiting for the workers")
        upload_files = drain(run, args.redis)
        stop(processes)
        processes = []
        for path in sorted(data_dir.glob("*.log")):
            text = path.read_text(errors="replace")
            found = re.findall(r"^.*(?:WORKER TIMEOUT|Traceback|\[ERROR\]|ERROR/|CRITICAL).*$",
                               text, re.M)  # fmt: skip
            for line in found:
                run.count("log", problem=f"{path.name}: {line.strip()[:200]}")
        counts_after = policy_counts(repo, env)
        rc, report, stderr = index_check(repo, env)

        print()
        print(f"SEARCH_BACKEND={args.search_backend}, 2 web × (2 workers × 4 threads), "
              f"2 Celery workers, 1 beat; {wall:.0f} s")  # fmt: skip
        total = sum(run.requests.values())
        print(f"requests: {total} ({total / wall:.1f}/s): "
              + ", ".join(f"{k} {v}" for k, v in sorted(run.requests.items())))  # fmt: skip
        statuses = import_result.get("statuses", {})
        print(f"import_policies: {import_result.get('runs')} runs, {dict(statuses)} in "
              f"{import_result.get('seconds', 0):.0f} s")  # fmt: skip
        print(f"uploads: {len(run.uploads)} accepted, files {upload_files}")
        print(f"edits published: {run.edits}")
        print(f"policy pages {counts_before['pages']} → {counts_after['pages']}, "
              f"articles {counts_before['articles']} → {counts_after['articles']}")  # fmt: skip
        print(f"GETs retried once after a keep-alive close: {dict(run.retried) or 0}")
        print(f"errors: {len(run.errors)}")
        for error in sorted(set(run.errors)):
            print(f"  error: {error} ×{run.errors.count(error)}")
        print()
        print("search_index_check --json:")
        problems = print_index(report) if report else -1
        if report is None:
            print(f"  no report (exit {rc}): {stderr[-500:]}")
        failed = bool(run.errors) or problems != 0 or (report is not None and not report["ok"])
        print()
        print("FAILED" if failed else "OK: no errors, index and database agree")
    finally:
        stop(processes)
        logs = Path(tempfile.gettempdir()) / f"scaleout-logs-{os.getpid()}"
        logs.mkdir(exist_ok=True)
        for path in data_dir.glob("*.log"):
            shutil.copy(path, logs / path.name)
        log(f"process logs kept in {logs}")
        if args.keep:
            log(f"kept: DATA_DIR {data_dir}, database {database}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
            with psycopg.connect(admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            redis.Redis.from_url(args.redis).flushdb()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
