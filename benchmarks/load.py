"""Load benchmark: the real stack under N clients for D seconds (issue 15).

    .venv/bin/python benchmarks/load.py                     # 2,000 law articles, 8 clients, 60 s
    .venv/bin/python benchmarks/load.py --articles 20000 --clients 32 --duration 120
    .venv/bin/python benchmarks/load.py --repo /tmp/old-checkout   # the same run on other code

What it does, all on 127.0.0.1 and under a temporary DATA_DIR (SQLite, filesystem broker):

1. ``migrate``, ``load_demo``, then whole statutes from the law corpus
   (``--corpus``, default /work/shared/corpus/laws) imported with ``import_policies
   --publish`` until at least ``--articles`` articles (条) are in; the files are copied to
   the temporary directory, never into the repository. 20,000 articles is about 600
   statutes and takes a long while to import on this machine (plan an hour); 2,000
   (the default) takes minutes.
2. Starts gunicorn exactly as the ``Procfile``'s ``web`` line says (2 workers × 4 threads)
   on ``--port`` and the Celery worker as its ``worker`` line says.
3. ``--clients`` threads, each logged in (before the clock starts) as the demo 工作人员
   (staff) and, for uploads, the demo 部门联络员 (liaison), send requests for ``--duration`` seconds (and at most
   ``--max-requests`` in all) drawn from a fixed mix: searches of every class of
   docs/search.md (selective, dense, phrase, one character) and the two expensive queries
   of issue 15, policy pages, budget views, suggestion pages, the home page, and uploads
   of a small PDF answer by the liaison.
   With ``--extra-clients E``, E more clients send one kind only (``--extra-kind``):
   ``heavy``, expensive queries each new (20 single characters, or the special-character
   query, with characters and words drawn at random, so no earlier answer is reused), or
   ``home``, the home page (the control: what any E more clients cost the mix), each
   waiting ``--extra-pause`` seconds between requests. Do the mix's pages keep their times?
4. Prints requests/s, p50 / p95 / p99 / max per kind and every error (HTTP 5xx, a
   timeout, a refused connection), then stops everything it started.

Figures on a shared machine are noisy: compare runs made side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from corpus import ARTICLE_RE  # noqa: E402

SEARCHES = {
    "search_selective": ["政府债务 管理", "预算绩效", "审计监督", "转移支付", "三公经费 公开",
                         "政府采购 评审", "国有资产 报告"],
    "search_dense": ["规定", "应当", "人民政府", "国家", "管理"],
    "search_phrase": ['"人民政府"', '"依照本法规定"', '"预算执行"', '"县级以上"'],
    "search_onechar": ["税", "罚", "债", "审"],
    "search_question": ["政府债务怎么管理", "如何管理政府债务", "预算 OR 决算"],
    # the two queries of issue 15 that took seconds
    "search_heavy": [" ".join("税费债罚款项目资金收支预决算审计监督管理"),
                     "预算 AND (决算 OR *) ~ ^ \\ / : ? [ ] { }"],
}  # fmt: skip
#: ``--extra-kind heavy``: expensive queries, each one new (made of characters and words
#: drawn at random) so that no earlier answer can be reused
HEAVY_CHARS = "税费债罚款项目资金收支预决算审计监督管理财政国有资产政府采购绩效转移"
HEAVY_WORDS = ["预算", "决算", "审计", "债务", "绩效", "采购", "资产", "收入", "支出", "监督"]
BUDGET_PAGES = ["/budget/", "/budget/execution/", "/budget/departments/",
                "/budget/three-public/", "/budget/trend/"]  # fmt: skip
# kind → weight in the mix
MIX = {
    "search_selective": 10,
    "search_dense": 8,
    "search_phrase": 6,
    "search_onechar": 6,
    "search_question": 4,
    "search_heavy": 2,
    "policy_page": 12,
    "budget_view": 12,
    "suggestion_page": 10,
    "home": 8,
    "upload": 3,
}
#: what the ``--extra-clients`` may send (reported apart from the mix)
EXTRA_KINDS = {"heavy": "extra: heavy", "home": "extra: home"}
# a one-page PDF, enough for the upload checks
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]"
    b"/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def manage(repo: Path, env: dict, *args: str, timeout: float = 7200) -> None:
    log("manage.py " + " ".join(args[:3]) + (" …" if len(args) > 3 else ""))
    subprocess.run(
        [str(repo / ".venv/bin/python"), "manage.py", *args],
        cwd=repo,
        env=env,
        check=True,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
    )


def pick_laws(corpus: Path, articles: int, into: Path) -> tuple[int, int]:
    """Copy whole statutes until ``articles`` articles; returns (files, articles)."""
    into.mkdir(parents=True, exist_ok=True)
    files = count = 0
    for path in sorted(corpus.rglob("*.md")):
        if path.name.startswith("_"):
            continue
        text = path.read_text(encoding="utf-8")
        found = sum(1 for line in text.splitlines() if ARTICLE_RE.match(line.strip()))
        if not found:
            continue
        shutil.copy(path, into / path.name)
        files += 1
        count += found
        if count >= articles:
            break
    return files, count


def procfile_commands(repo: Path, env: dict) -> dict[str, str]:
    commands = {}
    for line in (repo / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if command.strip():
            for key in ("PORT", "DATA_DIR"):
                command = command.replace(f"${key}", env[key])
            commands[name.strip()] = command.strip()
    return commands


def start(repo: Path, env: dict, command: str, logfile: Path) -> subprocess.Popen:
    handle = open(logfile, "ab")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        command,
        shell=True,
        cwd=repo,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole
    )


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    """Signal the whole process group, even when its leader has already exited: the Celery
    worker's pool children outlived their parent when only a live leader was signalled."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for process in processes:
        try:
            process.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _signal_group(process, signal.SIGKILL)  # whatever of the group is left
        process.wait()


#: the demo's passwords (cms demo data), used to log in as 工作人员 and 部门联络员
USERS = {"staff": "Staff-2026!", "liaison": "Liaison-2026!"}


def stack_env(data_dir: Path, port: int) -> dict:
    """The environment the stack runs in: one DATA_DIR, SQLite, onebox settings."""
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        # what manage.py, wsgi.py and the Procfile use by default: DEBUG off, as deployed
        # (cms.settings.dev would time Django's debug mode: every SQL query recorded)
        "DJANGO_SETTINGS_MODULE": "cms.settings.onebox",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    env.pop("DATABASE_URL", None)
    return env


def wait_for(base: str, seconds: float = 120) -> None:
    """Until the site at ``base`` answers its health check (SystemExit after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{base} 在 {seconds:.0f} 秒内没有应答")


@contextlib.contextmanager
def serving(repo: Path, env: dict):
    """gunicorn and the worker as the Procfile starts them, until the block ends."""
    base = f"http://127.0.0.1:{env['PORT']}"
    data_dir = Path(env["DATA_DIR"])
    commands = procfile_commands(repo, env)
    processes = [
        start(repo, env, commands["web"], data_dir / "web.log"),
        start(repo, env, commands["worker"], data_dir / "worker.log"),
    ]
    try:
        wait_for(base)
        yield base
    finally:
        stop(processes)


def login(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=60)
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
        },
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=60,
    )
    if "/accounts/login" in response.url:
        raise SystemExit(f"无法以 {username} 登录（{response.status_code}）")
    return session


def links(html: str, pattern: str) -> list[str]:
    return sorted(set(re.findall(pattern, html)))


class Mix:
    """The URLs each kind draws from, found on the running site."""

    def __init__(self, base: str, staff: requests.Session, liaison: requests.Session):
        html = staff.get(f"{base}/search/", params={"q": "条例"}, timeout=120).text
        self.policies = [u for u in links(html, r'<h2><a href="(/[^"#?]+)"') if "/search" not in u]
        html = staff.get(f"{base}/suggestions/", timeout=120).text
        self.suggestions = ["/suggestions/"] + links(html, r'href="(/suggestions/\d+/)"')[:30]
        html = liaison.get(f"{base}/suggestions/department/", timeout=120).text
        self.answers = links(html, r'href="/suggestions/department/(\d+)/"')[:20]
        log(
            f"mix: {len(self.policies)} policy pages, {len(self.suggestions)} suggestion "
            f"pages, {len(self.answers)} suggestions the liaison may answer"
        )

    def request(self, kind: str, rng: random.Random, base, staff, liaison):
        if kind == EXTRA_KINDS["home"]:
            return staff.get(base + "/", timeout=30)
        if kind == EXTRA_KINDS["heavy"]:
            if rng.random() < 0.5:
                query = " ".join(rng.sample(HEAVY_CHARS, 20))
            else:
                one, two = rng.sample(HEAVY_WORDS, 2)
                query = f"{one} AND ({two} OR *) ~ ^ \\ / : ? [ ] {{ }}"
            return staff.get(f"{base}/search/", params={"q": query}, timeout=30)
        if kind in SEARCHES:
            return staff.get(
                f"{base}/search/", params={"q": rng.choice(SEARCHES[kind])}, timeout=30
            )
        if kind == "policy_page":
            url = rng.choice(self.policies) if self.policies else "/policies/"
            return staff.get(base + url, timeout=30)
        if kind == "budget_view":
            return staff.get(base + rng.choice(BUDGET_PAGES), timeout=30)
        if kind == "suggestion_page":
            return staff.get(base + rng.choice(self.suggestions), timeout=30)
        if kind == "home":
            return staff.get(base + "/", timeout=30)
        if kind == "upload":
            if not self.answers:
                return liaison.get(f"{base}/suggestions/department/", timeout=30)
            pk = rng.choice(self.answers)
            page = f"{base}/suggestions/department/{pk}/"
            return liaison.post(
                f"{base}/suggestions/{pk}/step/answer/",
                data={
                    "csrfmiddlewaretoken": liaison.cookies.get("csrftoken", ""),
                    "signed_by": "负载测试",
                    "answered_on": time.strftime("%Y-%m-%d"),
                    "summary": "负载测试答复",
                },
                files={"document": ("答复.pdf", PDF, "application/pdf")},
                headers={"Referer": page},
                timeout=30,
                allow_redirects=False,
            )
        raise ValueError(kind)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_clients(
    base, clients, duration, max_requests, mix, staff_login, liaison_login, seed, extra=(0, "", 0)
):
    """``clients`` drawing from the mix, and ``extra`` = (count, kind, pause in seconds)
    clients sending one kind only."""
    extra_clients, extra_kind, extra_pause = extra
    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    sent = [0]
    kinds = list(MIX)
    weights = [MIX[k] for k in kinds]
    # Every client logs in before the clock starts: a login hashes the password (PBKDF2,
    # a second of CPU by design), and 2 × N of them at once are not the mix being measured.
    sessions = [(staff_login(), liaison_login()) for _ in range(clients + extra_clients)]
    stop_at = time.monotonic() + duration

    def client(number: int):
        rng = random.Random(seed + number)
        staff, liaison = sessions[number]
        while time.monotonic() < stop_at:
            with lock:
                if sent[0] >= max_requests:
                    return
                sent[0] += 1
            if number >= clients:
                kind = extra_kind
                time.sleep(extra_pause)
            else:
                kind = rng.choices(kinds, weights)[0]
            began = time.monotonic()
            try:
                response = mix.request(kind, rng, base, staff, liaison)
                problem = f"HTTP {response.status_code}" if response.status_code >= 500 else ""
            except requests.RequestException as exc:
                # the reason too (refused, reset, a keep-alive connection closed by the server)
                reason = re.sub(r"0x[0-9a-f]+", "…", str(exc))[:160]
                problem = f"{type(exc).__name__} ({reason})"
            elapsed = time.monotonic() - began
            with lock:
                timings[kind].append(elapsed)
                if problem:
                    errors.append(f"{kind}: {problem}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients + extra_clients)]
    began = time.monotonic()
    cpu_began = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    # the clients share the machine's cores with the stack they measure: say how much
    log(
        f"the clients' own CPU: {time.process_time() - cpu_began:.1f} s in {wall:.1f} s "
        f"({(time.process_time() - cpu_began) / wall:.0%} of one core)"
    )
    return timings, errors, wall


def report(timings, errors, wall, clients):
    total = sum(len(v) for v in timings.values())
    print()
    print(f"clients {clients}, {wall:.1f} s, {total} requests, {total / wall:.2f} requests/s, "
          f"{len(errors)} errors")  # fmt: skip
    print(
        f"{'kind':<18}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}{'errors':>8}"
    )
    by_kind_errors = defaultdict(int)
    for error in errors:
        by_kind_errors[error.split(":")[0]] += 1
    groups = {k: v for k, v in timings.items()}
    searches = [t for k, v in timings.items() if k.startswith("search_") for t in v]
    others = [t for k, v in timings.items() if k in MIX and not k.startswith("search_") for t in v]
    if searches:
        groups["(all searches)"] = searches
    if others:
        groups["(all other pages)"] = others
    for kind in [*MIX, "(all searches)", "(all other pages)", *EXTRA_KINDS.values()]:
        values = groups.get(kind)
        if not values:
            continue
        print(
            f"{kind:<18}{len(values):>6}{percentile(values, 0.5) * 1000:>10.0f}"
            f"{percentile(values, 0.95) * 1000:>10.0f}{percentile(values, 0.99) * 1000:>10.0f}"
            f"{max(values) * 1000:>10.0f}{by_kind_errors.get(kind, 0):>8}"
        )
    for error in sorted(set(errors)):
        print(f"  error: {error} ×{errors.count(error)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--corpus", default="/work/shared/corpus/laws")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--extra-clients", type=int, default=0, help="clients of one kind")
    parser.add_argument(
        "--extra-kind",
        choices=sorted(EXTRA_KINDS),
        default="heavy",
        help="heavy: new expensive queries; home: the home page (a control)",
    )
    parser.add_argument(
        "--extra-pause", type=float, default=0, help="seconds an extra client waits"
    )
    parser.add_argument("--port", type=int, default=8350)
    parser.add_argument("--repo", default=str(HERE.parent), help="the checkout to run")
    parser.add_argument("--data-dir", help="reuse a DATA_DIR set up by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="keep the DATA_DIR afterwards")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--setup-only", action="store_true", help="set up a DATA_DIR (kept) and stop"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 64 or not 0 < args.duration <= 1800:
        parser.error("--clients 1–64, --duration up to 1800 s")
    if not 0 <= args.extra_clients <= 32 or not 0 <= args.extra_pause <= 60:
        parser.error("--extra-clients 0–32, --extra-pause up to 60 s")

    repo = Path(args.repo).resolve()
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="load-"))
    fresh = not (data_dir / "db.sqlite3").exists()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = stack_env(data_dir, args.port)
    base = f"http://127.0.0.1:{args.port}"
    try:
        if fresh:
            began = time.monotonic()
            manage(repo, env, "migrate", "--noinput")
            manage(repo, env, "load_demo")
            files, articles = pick_laws(Path(args.corpus), args.articles, data_dir / "laws")
            manage(repo, env, "import_policies", str(data_dir / "laws"), "--publish")
            manage(repo, env, "collectstatic", "--noinput")
            log(f"set up: demo + {files} statutes ({articles} articles) in "
                f"{time.monotonic() - began:.0f} s")  # fmt: skip
            if args.setup_only:
                args.keep = True
                return
        with serving(repo, env):
            measure(args, base)
    finally:
        if args.keep or args.data_dir:
            log(f"DATA_DIR kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def measure(args, base: str) -> None:
    users = USERS
    staff = login(base, "staff", users["staff"])
    liaison = login(base, "liaison", users["liaison"])
    mix = Mix(base, staff, liaison)
    for query in SEARCHES["search_dense"]:  # warm every worker's index and caches
        staff.get(f"{base}/search/", params={"q": query}, timeout=120)
    log(
        f"{args.clients} clients (and {args.extra_clients} sending {args.extra_kind} every "
        f"{args.extra_pause:g} s) for {args.duration:.0f} s against {base}"
    )
    timings, errors, wall = run_clients(
        base,
        args.clients,
        args.duration,
        args.max_requests,
        mix,
        lambda: login(base, "staff", users["staff"]),
        lambda: login(base, "liaison", users["liaison"]),
        args.seed,
        extra=(args.extra_clients, EXTRA_KINDS[args.extra_kind], args.extra_pause),
    )
    report(timings, errors, wall, args.clients)


if __name__ == "__main__":
    main()
