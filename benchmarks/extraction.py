"""Benchmark of policy text extraction in the worker (time and peak memory per file).

    .venv/bin/python benchmarks/extraction.py [--before-root /path/to/main/checkout]

Writes three files into a temporary folder:

- ``bloated.docx``: ~340 KB, 25,000 short paragraphs of ten formatted runs each (the shape
  of the DOCX that took 55 s and 1.76 GB: tiny on disk, ~100 MB of XML inside);
- ``500-pages.docx``: ~1 MB, 500 pages of statute-like paragraphs (15 a page);
- ``200-pages.pdf``: 200 pages of text.

Each is extracted in a fresh process, as the worker does it now (``extract_limited``: a
child process under limits) and, with --before-root, by that tree's ``extract`` in the
process itself. Prints wall seconds, CPU seconds (user + system of every process involved)
and peak RSS (the largest of the processes involved).

With ``--through-site DATA_DIR`` (a DATA_DIR set up by ``benchmarks/load.py --setup-only``;
a copy of it is used, the original is left as it was), each file is then uploaded as the
demo 工作人员 through the running stack (gunicorn and the worker, as the Procfile starts
them): the upload request's time, and the time until the worker has finished the file,
with the state and message the uploader reads.
"""

import argparse
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
RPR = (
    '<w:rPr><w:rFonts w:ascii="仿宋_GB2312" w:hAnsi="仿宋_GB2312" w:eastAsia="仿宋_GB2312"/>'
    '<w:sz w:val="32"/><w:szCs w:val="32"/><w:lang w:eastAsia="zh-CN"/></w:rPr>'
)
WORDS = "预算 决算 执行 监督 审查 财政 资金 项目 绩效 支出 收入 部门 单位 人大 常委会 报告".split()
#: common Han characters, so the 500-page DOCX compresses like real text (~1 MB)
HAN = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]

RUN = """
import json, os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.test")
import django
django.setup()
mode, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
name = os.path.basename(path)
started = time.perf_counter()
cpu0 = resource.getrusage(resource.RUSAGE_SELF)
if mode == "after":
    from policies.extract_child import extract_limited
    found = extract_limited(data, name)
else:
    from policies.extraction import extract
    found = extract(data, name)
wall = time.perf_counter() - started
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "chars": len(found.text), "pages": found.pages,
                  "self_rss": me.ru_maxrss / 1024, "child_rss": kids.ru_maxrss / 1024,
                  "child_cpu": kids.ru_utime + kids.ru_stime,
                  "self_cpu": me.ru_utime + me.ru_stime - cpu0.ru_utime - cpu0.ru_stime}))
"""


def docx_with_body(paragraph_xml: list[str]) -> bytes:
    import docx

    base = io.BytesIO()
    docx.Document().save(base)
    source = zipfile.ZipFile(io.BytesIO(base.getvalue()))
    body = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>'
        + "".join(paragraph_xml)
        + "</w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename == "word/document.xml":
                target.writestr("word/document.xml", body)
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


def bloated_docx() -> bytes:
    runs = "".join(f"<w:r>{RPR}<w:t>预算</w:t></w:r>" for _ in range(10))
    return docx_with_body(
        [
            f'<w:p><w:pPr><w:spacing w:line="560" w:lineRule="exact"/></w:pPr>{runs}</w:p>'
            for _ in range(25_000)
        ]
    )


def long_docx(pages: int = 500) -> bytes:
    rng = random.Random(7)
    paragraphs = []
    for n in range(pages * 15):
        words = "".join(rng.choice(HAN) for _ in range(rng.randint(40, 80)))
        paragraphs.append(
            f'<w:p><w:pPr><w:spacing w:line="560"/></w:pPr><w:r>{RPR}'
            f"<w:t>第{n + 1}条 {words}。</w:t></w:r></w:p>"
        )
        if n % 15 == 14:
            paragraphs.append('<w:p><w:r><w:br w:type="page"/></w:r></w:p>')
    return docx_with_body(paragraphs)


def long_pdf(pages: int = 200) -> bytes:
    from tests.policies.files import make_pdf

    rng = random.Random(11)
    return make_pdf(
        [
            [
                f"第{p * 30 + k + 1}条 " + "".join(rng.choice(WORDS) for _ in range(10))
                for k in range(30)
            ]
            for p in range(pages)
        ]
    )


def measure(root: Path, mode: str, path: Path) -> dict:
    import json

    env = dict(os.environ, DATA_DIR=tempfile.mkdtemp(prefix="bench-extract-"))
    env["PYTHONPATH"] = str(root)
    done = subprocess.run(
        [sys.executable, "-c", RUN, mode, str(path)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def through_site(folder: Path, names: list[str], data_dir: Path, port: int) -> None:
    """Upload each file through the running site; print the request's and the worker's time."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import load

    work = Path(tempfile.mkdtemp(prefix="bench-upload-")) / "data"
    shutil.copytree(data_dir, work, ignore=shutil.ignore_patterns("*.log", "*.ctl"))
    print(f"\nthrough the site (a copy of {data_dir}):")
    print(f"{'file':16s} {'request ms':>10s} {'until done s':>12s}  state")
    try:
        with load.serving(ROOT, load.stack_env(work, port)) as base:
            staff = load.login(base, "staff", load.USERS["staff"])
            form = f"{base}/admin/policies/upload/"
            for name in names:
                staff.get(form, timeout=60)
                began = time.perf_counter()
                response = staff.post(
                    form,
                    data={"csrfmiddlewaretoken": staff.cookies.get("csrftoken", "")},
                    files={"files": (name, (folder / name).read_bytes())},
                    headers={"Referer": form},
                    allow_redirects=False,
                    timeout=120,
                )
                request_ms = (time.perf_counter() - began) * 1000
                if response.status_code != 302:
                    print(f"{name:16s} {request_ms:10.0f}  refused: HTTP {response.status_code}")
                    continue
                status = base + response.headers["Location"] + "&format=json"
                while True:
                    found = staff.get(status, timeout=60).json()
                    if found["finished"] or time.perf_counter() - began > 600:
                        break
                    time.sleep(0.1)
                done = time.perf_counter() - began
                (row,) = found["files"]
                message = f"{row['state']}" + (f"：{row['message']}" if row["message"] else "")
                print(f"{name:16s} {request_ms:10.0f} {done:12.1f}  {message}", flush=True)
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before-root", type=Path)
    parser.add_argument(
        "--through-site", type=Path, metavar="DATA_DIR", help="also upload through the stack"
    )
    parser.add_argument("--port", type=int, default=8351)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-extract-files-"))
    files = {
        "bloated.docx": bloated_docx(),
        "500-pages.docx": long_docx(),
        "200-pages.pdf": long_pdf(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    print(f"{'file':16s} {'size':>8s}  {'variant':7s} {'wall s':>7s} {'cpu s':>6s} {'RSS MB':>7s}")
    for name, data in files.items():
        variants = [("after", ROOT)]
        if args.before_root:
            variants.insert(0, ("before", args.before_root.resolve()))
        for mode, root in variants:
            result = measure(root, mode, folder / name)
            if "error" in result:
                print(f"{name:16s} {len(data) / 1024:6.0f}KB  {mode:7s} failed: {result['error']}")
                continue
            # peak RSS of the process that extracted: the child, or (before) the process
            # itself, Django included
            rss = result["child_rss"] if mode == "after" else result["self_rss"]
            # CPU of the extraction: the child's, or the process's own while extracting
            cpu = result["child_cpu"] + result["self_cpu"]
            print(
                f"{name:16s} {len(data) / 1024:6.0f}KB  {mode:7s} {result['wall']:7.2f} "
                f"{cpu:6.2f} {rss:7.0f}  ({result['chars']} characters, {result['pages']} pages)",
                flush=True,
            )
    if args.through_site:
        through_site(folder, list(files), args.through_site.resolve(), args.port)


if __name__ == "__main__":
    main()
