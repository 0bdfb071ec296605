"""Benchmark of bulk policy ingestion: ``import_policies DIR --publish`` into a new instance.

    .venv/bin/python benchmarks/ingest.py --corpus ../shared/corpus/laws --count 200 --runs 3
    .venv/bin/python benchmarks/ingest.py --corpus ../shared/corpus/laws --count 200 \
        --before-root /path/to/a/checkout/of/main      # also time that tree's command

Takes the first --count Markdown files of the corpus (sorted paths, ``_index.md`` left out),
migrates one throw-away SQLite database, and for each run times, side by side on copies of
that same database and fresh index directories:

- ``default``: this tree's command as it runs with no index option (on two cores or
  more: batches written by a child process, as ``background``);
- ``batched``: ``--no-background-index`` (index writes in batches, each committed in the
  import's process, a large one split with a helper process);
- ``background``: ``--background-index`` (each batch written by a child process while
  the import goes on);
- ``per-document``: this tree's command with ``--batch-docs 0`` (one index commit per
  after-commit write, the old way);
- ``before``: the command of ``--before-root`` (e.g. the main branch), when given.

Prints documents/s per variant and run (wall clock, and per CPU-second of the import
process — the figure that stays comparable when other work shares the machine), the
medians and their ratios to the first variant's median, and
checks each run's index against its database (documents in the index vs rows expected).
Everything runs under temporary directories; nothing outside them is touched.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import django, json
django.setup()
from modelsearch.backends import get_search_backend
from policies.models import PolicyArticle, PolicyPage
store = get_search_backend().store
searcher = store.index().searcher()
print(json.dumps({"indexed": searcher.doc_count(),
                  "pages": PolicyPage.objects.live().count(),
                  "articles": PolicyArticle.objects.count()}))
"""


def corpus_files(corpus: Path, count: int) -> list[Path]:
    files = sorted(p for p in corpus.rglob("*.md") if not p.name.startswith(("_", ".")))
    return files[:count]


def stage(files: list[Path], target: Path) -> None:
    """Symlink the files into one folder (a number prefix keeps equal names apart)."""
    target.mkdir(parents=True)
    for n, path in enumerate(files):
        (target / f"{n:05d}-{path.name}").symlink_to(path.resolve())


#: The settings the import runs under: manage.py's default (cms.settings.onebox, DEBUG off),
#: as an administrator runs it; --settings cms.settings.dev for the developer's (DEBUG on:
#: every query is also formatted and kept, ~6 % of the import process's CPU).
SETTINGS = "cms.settings.onebox"


def env_for(data_dir: Path, settings: str = SETTINGS) -> dict:
    env = dict(os.environ)
    env.update(
        DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE=settings,
        CELERY_TASK_ALWAYS_EAGER="1",
    )
    env.pop("DATABASE_URL", None)
    return env


def run_variant(root: Path, template: Path, folder: Path, extra: list[str], settings: str) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        shutil.copy(template / "db.sqlite3", data_dir / "db.sqlite3")
        command = [
            sys.executable,
            str(root / "manage.py"),
            "import_policies",
            str(folder),
            "--publish",
            "--json",
            *extra,
        ]
        started = time.perf_counter()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            command, cwd=root, env=env_for(data_dir, settings), capture_output=True, text=True
        )
        elapsed = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (
            cpu_before.ru_utime + cpu_before.ru_stime
        )
        if done.returncode:
            raise SystemExit(f"import failed:\n{done.stderr[-3000:]}")
        statuses = [json.loads(line)["status"] for line in done.stdout.splitlines() if line]
        check = subprocess.run(
            [sys.executable, "-c", CHECK],
            cwd=ROOT,
            env=env_for(data_dir, settings),
            capture_output=True,
            text=True,
        )
        figures = json.loads(check.stdout.strip().splitlines()[-1]) if check.stdout else {}
        return {
            "seconds": elapsed,
            "files": len(statuses),
            "created": statuses.count("created"),
            "per_second": len(statuses) / elapsed,
            "cpu": cpu,
            "per_cpu_second": len(statuses) / cpu if cpu else 0.0,
            **figures,
        }
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpus/laws")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--before-root", type=Path, help="another checkout to time as 'before'")
    parser.add_argument(
        "--variants",
        default="default,batched",
        help="comma-separated: default,batched,background,per-document",
    )
    parser.add_argument("--settings", default=SETTINGS, help=f"default {SETTINGS}")
    args = parser.parse_args()

    files = corpus_files(args.corpus, args.count)
    if not files:
        raise SystemExit(f"no Markdown files under {args.corpus}")
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-work-"))
    try:
        folder = work / "files"
        stage(files, folder)
        variants = []
        for name in args.variants.split(","):
            extra = {
                "per-document": ["--batch-docs", "0"],
                "background": ["--background-index"],
                "batched": ["--no-background-index"],
            }
            extra = extra.get(name, [])
            variants.append((name, ROOT, extra))
        if args.before_root:
            variants.append(("before", args.before_root.resolve(), []))
        templates = {}
        for root in {root for _n, root, _e in variants}:  # each tree migrates its own
            template = templates[root] = work / f"template-{len(templates)}"
            template.mkdir()
            subprocess.run(
                [sys.executable, str(root / "manage.py"), "migrate", "-v0"],
                cwd=root,
                env=env_for(template, args.settings),
                check=True,
                capture_output=True,
            )
        size = sum(p.stat().st_size for p in files)
        print(
            f"{len(files)} files, {size / 1048576:.1f} MB, from {args.corpus}; settings {args.settings}"
        )
        results: dict[str, list[dict]] = {name: [] for name, _r, _e in variants}
        for run in range(1, args.runs + 1):
            for name, root, extra in variants:  # alternating, so load changes hit all
                result = run_variant(root, templates[root], folder, extra, args.settings)
                results[name].append(result)
                print(
                    f"run {run} {name:13s} {result['seconds']:7.1f} s  "
                    f"{result['per_second']:6.2f} docs/s  CPU {result['cpu']:6.1f} s "
                    f"({result['per_cpu_second']:5.2f} docs per CPU-s)  created {result['created']}/"
                    f"{result['files']}  index {result.get('indexed')} = pages "
                    f"{result.get('pages')} + articles {result.get('articles')}",
                    flush=True,
                )
        print()
        base = statistics.median(r["per_second"] for r in results[variants[0][0]])
        base_cpu = statistics.median(r["per_cpu_second"] for r in results[variants[0][0]])
        for name, _root, _extra in variants:
            median = statistics.median(r["per_second"] for r in results[name])
            median_cpu = statistics.median(r["per_cpu_second"] for r in results[name])
            print(
                f"{name:13s} median {median:6.2f} docs/s wall ({median / base:.2f}× "
                f"{variants[0][0]}), {median_cpu:5.2f} docs per CPU-second "
                f"({median_cpu / base_cpu:.2f}×)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
