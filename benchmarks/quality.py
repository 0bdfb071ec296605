#!/usr/bin/env python
"""Search quality and speed of both backends on the same statutes, side by side (issue 19).

    .venv/bin/python benchmarks/quality.py --corpus /work/shared/corpus/laws
        [--count 300] [--per-kind 44] [--backends whoosh,postgres]
        [--postgres postgres://postgres@127.0.0.1:5432] [--keep DIR] [--json out.json]

1. A query set is written from the corpus (seeded, so every run asks the same questions):
   six kinds, ``--per-kind`` queries each —

   * ``title``      a statute's name (预算法, 监督法 …);
   * ``two_words``  two words of one article (“财政部门 国库”);
   * ``phrase``     a quoted stretch of 4–8 characters of one article;
   * ``prefix``     the beginning of a word of 3+ characters, as typed so far (“监督检”);
   * ``question``   two words of one article inside a question (“预算调整需要报哪里批准”: a noun, then a verb);
   * ``domain``     a term of the domain dictionary (search/dict/terms.txt) found in the corpus.

   Each query carries the strings a relevant document must contain (the query's words,
   the phrase, the prefix, the question's two words): the truth is substring matching over
   the imported documents' text, never either engine's answer.
2. For each backend, in a process of its own, a new instance is made (a temporary DATA_DIR;
   SQLite for Whoosh, a new PostgreSQL database for PostgreSQL), migrated, and the statutes
   are imported the way the site imports them (``import_policies --publish``).
3. Every query runs through ``search.registry.run_search`` as a 系统管理员 — what the search
   page runs — and is measured at the level users see: the page lists a statute once, with
   its matching articles (条) beneath it, so a result is a statute, found by its own text or
   through its articles. Per kind: recall (relevant statutes listed / relevant statutes),
   precision (relevant listed / listed), recall@10, MRR@10 (first relevant statute), and
   time per query (wall clock of run_search, and the total).

``--keep DIR`` keeps each imported instance under DIR and reuses it on the next run (the
import is skipped): convenient while changing a backend. Nothing here asserts a target; it
prints the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

KINDS = ["title", "two_words", "phrase", "prefix", "question", "domain"]
BACKENDS = ["whoosh", "postgres"]
HAN_RUN_RE = re.compile(r"[\u4e00-\u9fff]+")
# Questions as users type them: {a} and {b} are two words of one article.
QUESTION_TEMPLATES = [
    "{a}需要报哪里{b}",
    "{a}怎么{b}",
    "{a}需要{b}吗",
    "如何{a}{b}",
    "哪些{a}应当{b}",
    "{a}的{b}是什么",
    "{a}{b}有哪些要求",
    "{a}是否需要{b}",
]


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


# ------------------------------------------------------------------------- query set


def _stop_words() -> set[str]:
    path = REPO / "search" / "dict" / "stopwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return {normalise(w.strip()) for w in lines if w.strip() and not w.startswith("#")}


def _dictionary_terms() -> list[str]:
    terms = []
    for name in ("terms.txt", "synonyms.txt"):
        for line in (REPO / "search" / "dict" / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                head = line.split()[0] if name == "terms.txt" else line
                terms.extend(t.strip() for t in re.split(r"[,，]", head) if t.strip())
    return list(dict.fromkeys(normalise(t) for t in terms))


def corpus_files(corpus: Path, count: int) -> list[Path]:
    files = sorted(p for p in corpus.rglob("*.md") if not p.name.startswith(("_", ".")))
    return files[:count]


def build_queries(files: list[Path], per_kind: int, seed: int) -> list[dict]:
    """``per_kind`` queries of each kind, from the articles of ``files`` (jieba's own
    segmentation picks the words: the truth is substring matching, not this cut)."""
    import jieba
    from corpus import read_law_articles

    jieba.setLogLevel(60)
    stop = _stop_words()
    rng = random.Random(seed)
    articles = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, path in enumerate(files):
            (Path(tmp) / f"{n:05d}.md").symlink_to(path.resolve())
        articles = read_law_articles(tmp)
    for article in articles:
        body = normalise(article["body"])
        article["words"] = sorted(
            {
                w
                for w in jieba.lcut(body)
                if 2 <= len(w) <= 4 and HAN_RUN_RE.fullmatch(w) and w not in stop
            }
        )
        article["runs"] = [r for r in HAN_RUN_RE.findall(body) if len(r) >= 8]
    rng.shuffle(articles)
    rich = [a for a in articles if len(a["words"]) >= 6]
    queries: list[dict] = []

    def add(kind, text, must):
        queries.append({"kind": kind, "query": text, "must": must})

    laws = sorted({normalise(a["law"]) for a in articles})
    for law in rng.sample(laws, min(per_kind, len(laws))):
        add("title", law, [law])
    for article in rich[:per_kind]:
        a, b = rng.sample(article["words"], 2)
        add("two_words", f"{a} {b}", [a, b])
    with_runs = [a for a in articles if a["runs"]]
    for article in with_runs[:per_kind]:
        run = rng.choice(article["runs"])
        size = rng.randint(4, 8)
        start = rng.randint(0, len(run) - size)
        phrase = run[start : start + size]
        add("phrase", f'"{phrase}"', [phrase])
    offset = per_kind
    for article in rich[offset:]:
        long_words = [w for w in article["words"] if len(w) >= 3]
        if not long_words:
            continue
        word = rng.choice(long_words)
        prefix = word[: max(2, len(word) - 1)] if len(word) == 3 else word[:3]
        add("prefix", prefix, [prefix])
        offset += 1
        if sum(q["kind"] == "prefix" for q in queries) >= per_kind:
            break
    import jieba.posseg

    asked = 0
    for article in rich[offset:]:
        if asked >= per_kind:
            break
        # a question names a thing and asks what is done with it: a noun, then a verb
        tagged = [(p.word, p.flag) for p in jieba.posseg.lcut(normalise(article["body"]))]
        nouns = sorted({w for w, f in tagged if f in ("n", "nz", "vn") and w in article["words"]})
        verbs = sorted({w for w, f in tagged if f == "v" and w in article["words"]} - set(nouns))
        if not nouns or not verbs:
            continue
        a, b = rng.choice(nouns), rng.choice(verbs)
        template = QUESTION_TEMPLATES[asked % len(QUESTION_TEMPLATES)]
        add("question", template.format(a=a, b=b), [a, b])
        asked += 1
    texts = [normalise(a["title"] + a["body"]) for a in articles]
    present = [t for t in _dictionary_terms() if any(t in text for text in texts)]
    for term in present[:per_kind]:
        add("domain", term, [term])
    return queries


# ------------------------------------------------------------------------- one backend


def _instance_env(backend: str, data_dir: Path, database_url: str | None) -> dict:
    env = dict(os.environ)
    env.update(DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="cms.settings.test")
    env.pop("PYTEST_XDIST_WORKER", None)
    if backend == "postgres":
        env.update(SEARCH_BACKEND="postgres", DATABASE_URL=database_url)
    else:
        env.pop("DATABASE_URL", None)
        env["SEARCH_BACKEND"] = "whoosh"
    return env


def run_backend(backend, files, queries, args) -> dict:
    """Import the statutes into a new (or kept) instance and run the queries there."""
    keep = Path(args.keep) / backend if args.keep else None
    data_dir = keep or Path(tempfile.mkdtemp(prefix=f"bench-quality-{backend}-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    database = None
    database_url = None
    fresh = not (data_dir / "imported.json").exists()
    if backend == "postgres":
        database = (data_dir / "database").read_text().strip() if not fresh else None
        if database is None:
            database = f"bench_quality_{os.getpid()}"
            subprocess.run(["createdb", "-h", args.pg_host, "-U", "postgres", database], check=True)
            (data_dir / "database").write_text(database)
        database_url = f"{args.postgres.rstrip('/')}/{database}"
    env = _instance_env(backend, data_dir, database_url)
    work = Path(tempfile.mkdtemp(prefix="bench-quality-io-"))
    try:
        (work / "queries.json").write_text(json.dumps(queries, ensure_ascii=False))
        if fresh:
            folder = data_dir / "statutes"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            for n, path in enumerate(files):
                (folder / f"{n:05d}-{path.name}").symlink_to(path.resolve())
        command = [sys.executable, __file__, "--worker", str(work), "--backend", backend]
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{backend} run failed:\n{done.stderr[-4000:]}")
        return json.loads((work / "result.json").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if keep is None:
            shutil.rmtree(data_dir, ignore_errors=True)
            if database:
                subprocess.run(
                    ["dropdb", "-h", args.pg_host, "-U", "postgres", "--if-exists", database],
                    check=False,
                )


def worker(work: Path, backend: str) -> None:
    """In the instance's own process: migrate and import (once), then search and score."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    data_dir = Path(os.environ["DATA_DIR"])
    result: dict = {"backend": backend}
    marker = data_dir / "imported.json"
    if not marker.exists():
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        with open(os.devnull, "w") as sink:
            imported = time.perf_counter()
            call_command("import_policies", str(data_dir / "statutes"), "--publish", stdout=sink)
        marker.write_text(
            json.dumps(
                {
                    "migrate_s": round(imported - started, 1),
                    "import_s": round(time.perf_counter() - imported, 1),
                }
            )
        )
    result["import"] = json.loads(marker.read_text())

    from policies.models import PolicyArticle, PolicyPage
    from search.registry import run_search

    User = get_user_model()
    user = User.objects.filter(username="bench-quality").first()
    if user is None:
        user = User.objects.create_superuser("bench-quality", "bench@example.invalid", "x")
    pages = PolicyPage.objects.live().public()
    result["statutes"] = pages.count()
    result["articles"] = PolicyArticle.objects.filter(page__in=pages).count()
    texts = {}
    for page in pages.only("pk", "title", "doc_number", "issuer", "summary", "body_text"):
        parts = [page.title, page.doc_number, page.issuer, page.summary, page.body_text]
        texts[page.pk] = normalise("\n".join(p or "" for p in parts))

    queries = json.loads((work / "queries.json").read_text())
    rows = []
    run_search(user, "预算")  # loads the lexicon and opens the index before the clock starts
    for query in queries:
        truth = {pk for pk, text in texts.items() if all(s in text for s in query["must"])}
        started = time.perf_counter()
        outcome = run_search(user, query["query"])
        elapsed = time.perf_counter() - started
        listed = []
        for hit in outcome.results:
            if isinstance(hit.obj, PolicyPage) and hit.obj.pk not in listed:
                listed.append(hit.obj.pk)
        rows.append(_score(query, truth, listed, elapsed))
    result["rows"] = rows
    (work / "result.json").write_text(json.dumps(result, ensure_ascii=False))


def _score(query, truth, listed, elapsed) -> dict:
    found = set(listed)
    top = listed[:10]
    first = next((n for n, pk in enumerate(top, 1) if pk in truth), None)
    return {
        "kind": query["kind"],
        "query": query["query"],
        "truth": len(truth),
        "listed": len(listed),
        "recall": len(found & truth) / len(truth) if truth else None,
        "precision": len(found & truth) / len(found) if found else (1.0 if not truth else 0.0),
        "recall_at_10": (len(set(top) & truth) / min(10, len(truth))) if truth else None,
        "mrr": (1 / first if first else 0.0) if truth else None,
        "seconds": elapsed,
    }


# ------------------------------------------------------------------------- report


def summarise(rows: list[dict]) -> dict:
    out = {}
    for kind in [*KINDS, "all"]:
        mine = [r for r in rows if kind in ("all", r["kind"])]
        judged = [r for r in mine if r["recall"] is not None]
        if not mine:
            continue

        def mean(key, items=judged):
            values = [r[key] for r in items if r[key] is not None]
            return round(statistics.fmean(values), 3) if values else None

        seconds = [r["seconds"] for r in mine]
        out[kind] = {
            "queries": len(mine),
            "recall": mean("recall"),
            "precision": mean("precision", mine),
            "recall_at_10": mean("recall_at_10"),
            "mrr": mean("mrr"),
            "ms_median": round(statistics.median(seconds) * 1000, 1),
            "ms_mean": round(statistics.fmean(seconds) * 1000, 1),
            "total_s": round(sum(seconds), 2),
        }
    return out


def print_table(results: dict) -> None:
    names = list(results)
    metrics = ["recall", "precision", "recall_at_10", "mrr", "ms_median", "ms_mean", "total_s"]
    head = f"{'kind':<10} {'n':>3} {'metric':<13}" + "".join(f"{n:>10}" for n in names)
    print(head)
    print("-" * len(head))
    for kind in [*KINDS, "all"]:
        first = results[names[0]]["summary"].get(kind)
        if first is None:
            continue
        for metric in metrics:
            values = "".join(f"{results[n]['summary'][kind][metric]!s:>10}" for n in names)
            print(f"{kind:<10} {first['queries']:>3} {metric:<13}{values}")
        print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="the law corpus (Markdown statutes)")
    parser.add_argument("--count", type=int, default=300, help="statutes to import")
    parser.add_argument("--per-kind", type=int, default=44)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--keep", help="keep (and reuse) the imported instances under this folder")
    parser.add_argument("--json", help="write every figure and every query's row here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.worker), args.backend)
        return
    if not args.corpus:
        parser.error("--corpus is required")
    files = corpus_files(Path(args.corpus), args.count)
    queries = build_queries(files, args.per_kind, args.seed)
    counts = {k: sum(q["kind"] == k for q in queries) for k in KINDS}
    print(f"{len(files)} statutes, {len(queries)} queries {counts}", flush=True)
    results = {}
    for backend in args.backends.split(","):
        started = time.perf_counter()
        result = run_backend(backend, files, queries, args)
        result["summary"] = summarise(result["rows"])
        results[backend] = result
        print(
            f"{backend}: {result['statutes']} statutes, {result['articles']} articles, "
            f"import {result['import']}, run {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    print()
    print_table(results)
    if len(results) > 1:
        truths = [[r["truth"] for r in res["rows"]] for res in results.values()]
        same = all(t == truths[0] for t in truths)
        print("truth sets identical across backends:", same)
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
