"""Backup and restore times on the demo data set, and the round-trip check.

    .venv/bin/python benchmarks/backup.py [--source /tmp/bk-demo] [--runs 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bk_demo \\
        .venv/bin/python benchmarks/backup.py --target-pg bk_restore

It prepares the source the way `make demo` does (`migrate` + `load_demo` into --source, unless
--no-setup), then, each in its own process as an operator would run them:
- `backup_now --json`, --runs times (a new backup folder each time);
- for each run a new, empty instance (`migrate` into a fresh DATA_DIR and database: SQLite by
  default, a PostgreSQL database named --target-pg-<n> with --target-pg) and
  `restore <newest backup> --json` into it;
- the round-trip check: records digest per model and SHA-256 of every media and archive file
  of the source and of the last restored instance, compared.
Prints the median (and all) wall-clock times. It writes only under --source and a temporary
folder; point it at throw-away places.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import json
from archive import backup
per_model = backup.records_digest()
print(json.dumps({"records": backup.combined_digest(per_model), "per_model": per_model,
                  "files": backup.files_digest()}))
"""


def manage(args, data_dir, db_url=None, check=True):
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "cms.settings.dev"),
    }
    env.pop("BACKUP_DIR", None)
    if db_url:
        env["DATABASE_URL"] = db_url
    else:
        env.pop("DATABASE_URL", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.monotonic() - started
    if check and done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return done, seconds


def last_json(text):
    return json.loads(text[text.index("{") :])


def pg_create(url_base, name):
    import psycopg

    with psycopg.connect(f"{url_base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{url_base}/{name}"


def human(n):
    return f"{n / 1024 / 1024:.1f} MB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="/tmp/bk-demo", help="DATA_DIR of the demo instance")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-setup", action="store_true", help="source already has demo data")
    parser.add_argument(
        "--target-pg", default="", help="restore into PostgreSQL databases with this name prefix"
    )
    opts = parser.parse_args()
    source = Path(opts.source)
    source.mkdir(parents=True, exist_ok=True)
    source_url = os.environ.get("DATABASE_URL")

    if not opts.no_setup:
        _, t_migrate = manage(["migrate", "--noinput", "-v0"], source, source_url)
        _, t_demo = manage(["load_demo"], source, source_url)
        print(f"source prepared: migrate {t_migrate:.1f} s, load_demo {t_demo:.1f} s")

    backups = []
    for _ in range(opts.runs):
        done, seconds = manage(["backup_now", "--json"], source, source_url)
        backups.append((seconds, last_json(done.stdout)))
    b = backups[-1][1]
    print(
        f"backup: {b['files']} files, {human(b['bytes'])}, {b['rows']} database rows "
        f"(engine {'PostgreSQL' if source_url else 'SQLite'})"
    )
    walls = [s for s, _ in backups]
    inner = [x["seconds"] for _, x in backups]
    print(
        f"  backup_now wall time: median {statistics.median(walls):.2f} s "
        f"(runs {', '.join(f'{w:.2f}' for w in walls)}); inside the command median "
        f"{statistics.median(inner):.2f} s (export {b['export_seconds']} s, copy "
        f"{b['copy_seconds']} s, verify {b['verify_seconds']} s)"
    )

    workdir = Path(tempfile.mkdtemp(prefix="bk-restore-"))
    restores, migrates = [], []
    target = None
    for n in range(opts.runs):
        target_dir = workdir / f"target-{n}"
        target_dir.mkdir()
        target_url = None
        if opts.target_pg:
            base = (source_url or "postgres://postgres@127.0.0.1:5432/x").rsplit("/", 1)[0]
            target_url = pg_create(base, f"{opts.target_pg}_{n}")
        _, t_migrate = manage(["migrate", "--noinput", "-v0"], target_dir, target_url)
        migrates.append(t_migrate)
        done, seconds = manage(
            ["restore", str(backups[-1][1]["path"]), "--json"], target_dir, target_url
        )
        report = last_json(done.stdout)
        restores.append((seconds, report))
        target = (target_dir, target_url)
    r = restores[-1][1]
    walls = [s for s, _ in restores]
    print(
        f"restore into an empty {'PostgreSQL' if opts.target_pg else 'SQLite'} instance: "
        f"median {statistics.median(walls):.2f} s (runs {', '.join(f'{w:.2f}' for w in walls)}); "
        f"inside: verify {r['timings']['verify']} s, files {r['timings']['files']} s, "
        f"database {r['timings']['database']} s, search index {r['timings'].get('index')} s; "
        f"the empty instance's migrate took median {statistics.median(migrates):.1f} s (not included)"
    )

    src, _ = manage(["shell", "-c", CHECK], source, source_url)
    dst, _ = manage(["shell", "-c", CHECK], *target)
    src, dst = last_json(src.stdout), last_json(dst.stdout)
    differing = sorted(
        label
        for label in set(src["per_model"]) | set(dst["per_model"])
        if src["per_model"].get(label) != dst["per_model"].get(label)
    )
    files_same = src["files"] == dst["files"]
    ok = not differing and files_same and src["records"] == dst["records"]
    print(
        f"round trip: {'IDENTICAL' if ok else 'DIFFERENT'} — records digest "
        f"{src['records'][:16]}… vs {dst['records'][:16]}… over "
        f"{sum(v['rows'] for v in src['per_model'].values())} rows in {len(src['per_model'])} "
        f"tables; {len(src['files'])} files {'identical' if files_same else 'DIFFER'}"
    )
    if differing:
        print("  differing tables:", ", ".join(differing))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
