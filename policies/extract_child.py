"""Text extraction in a child process under resource limits.

A hostile PDF or DOCX (a decompression bomb, a page tree that never ends, an XML part of
millions of elements) must not take the worker down with it. :func:`extract_limited`
runs :func:`policies.extraction.extract` in a fresh Python process whose address space
and CPU time are capped with ``setrlimit`` and whose wall time is bounded; whatever goes
wrong there comes back as an :class:`~policies.extraction.ExtractionError` with a Chinese
reason. Run as ``python -m policies.extract_child NAME`` it reads the file from stdin and
writes one JSON object to stdout.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from .extraction import Extracted, ExtractionError

DEFAULT_MEMORY_MB = 768
DEFAULT_CPU_SECONDS = 60
DEFAULT_WALL_SECONDS = 90
DEFAULT_MAX_PAGES = 2000

LIMIT_SETTINGS = (
    "POLICY_MAX_UPLOAD_BYTES",
    "POLICY_MAX_EXPANDED_BYTES",
    "POLICY_MAX_ZIP_MEMBERS",
    "POLICY_MAX_PAGES",
)


def limits() -> dict:
    return {
        "memory_mb": int(getattr(settings, "POLICY_EXTRACT_MEMORY_MB", DEFAULT_MEMORY_MB)),
        "cpu_seconds": int(getattr(settings, "POLICY_EXTRACT_CPU_SECONDS", DEFAULT_CPU_SECONDS)),
        "wall_seconds": float(
            getattr(settings, "POLICY_EXTRACT_WALL_SECONDS", DEFAULT_WALL_SECONDS)
        ),
    }


def _limit_child(memory_mb: int, cpu_seconds: int):
    def apply():
        memory = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 2))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def extract_limited(data: bytes, filename: str) -> Extracted:
    """:func:`extract` in a child process with memory, CPU and wall-time limits."""
    caps = limits()
    env = dict(os.environ)
    env["POLICY_EXTRACT_SETTINGS"] = json.dumps(
        {name: getattr(settings, name) for name in LIMIT_SETTINGS if hasattr(settings, name)}
    )
    env["POLICY_EXTRACT_MEMORY_MB"] = str(caps["memory_mb"])
    root = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH", "")]))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "policies.extract_child", filename],
            input=data,
            capture_output=True,
            env=env,
            cwd=root,
            timeout=caps["wall_seconds"],
            preexec_fn=_limit_child(caps["memory_mb"], caps["cpu_seconds"]),
        )
    except subprocess.TimeoutExpired as error:
        raise ExtractionError(
            f"提取文字超时（超过 {caps['wall_seconds']:.0f} 秒），文件可能过于复杂或异常，已停止处理；"
            "原件已保留。"
        ) from error
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL) or (
        done.returncode and b"MemoryError" in done.stderr
    ):
        if done.returncode == -signal.SIGXCPU:
            reason = f"提取文字所用计算时间超过上限（{caps['cpu_seconds']} 秒）"
        else:
            reason = f"提取文字所需内存超过上限（{caps['memory_mb']} MB）"
        raise ExtractionError(f"{reason}，文件可能过于复杂或异常，已停止处理；原件已保留。")
    try:
        result = json.loads(done.stdout.decode("utf-8"))
    except ValueError:
        result = None
    if done.returncode or not isinstance(result, dict):
        raise ExtractionError(
            "提取文字的进程异常退出，文件可能已损坏或异常；原件已保留，请联系系统管理员。"
        )
    if "error" in result:
        raise ExtractionError(result["error"])
    return Extracted(
        text=result["text"],
        pages=result["pages"],
        needs_ocr=result["needs_ocr"],
        warnings=result["warnings"],
    )


def main() -> None:
    if not settings.configured:
        settings.configure(**json.loads(os.environ.get("POLICY_EXTRACT_SETTINGS") or "{}"))
    from .extraction import extract

    data = sys.stdin.buffer.read()
    try:
        found = extract(data, sys.argv[1])
        out = {
            "text": found.text,
            "pages": found.pages,
            "needs_ocr": found.needs_ocr,
            "warnings": found.warnings,
        }
    except ExtractionError as error:
        out = {"error": str(error)}
    except MemoryError:
        limit = os.environ.get("POLICY_EXTRACT_MEMORY_MB", "?")
        out = {
            "error": f"提取文字所需内存超过上限（{limit} MB），文件可能过于复杂或异常，"
            "已停止处理；原件已保留。"
        }
    sys.stdout.write(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
