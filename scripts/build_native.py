"""Compile the project's C module (search/_fastwrite.c) next to its source.

Run by ``make install`` (so by ``make run``, ``make test`` and CI): it needs a C compiler
and the Python headers, which every machine of this project has (docs/architecture.md).
Without the compiled module the code falls back to its pure Python twin, slower, same bytes:
a failed build warns and exits 0, so a machine without a compiler still installs and runs
(``tests/search/test_native_writer.py`` fails there, so CI notices).
"""

import os
import sys
from pathlib import Path

from setuptools import Distribution, Extension
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    # with zlib (zlib1g-dev, scripts/system-deps.sh) the module compresses posting blocks and
    # stored fields itself; a build without it leaves that to Python's zlib module
    if not build(with_zlib=True):
        print(
            "C 模块改为不含 zlib 编译。 Building search/_fastwrite without zlib.", file=sys.stderr
        )
        if not build(with_zlib=False):
            print(
                "警告：C 模块 search/_fastwrite 编译失败，将使用较慢的纯 Python 实现。"
                " Warning: search/_fastwrite was not built; the pure Python twin runs instead.",
                file=sys.stderr,
            )
    return 0


def build(with_zlib: bool) -> bool:
    extension = Extension(
        "search._fastwrite",
        sources=["search/_fastwrite.c"],
        extra_compile_args=["-O2", "-Wall", "-Wno-unused-function"],
        define_macros=[("HAVE_ZLIB", "1")] if with_zlib else [],
        libraries=["z"] if with_zlib else [],
    )
    dist = Distribution({"name": "rd-budget-kb-native", "ext_modules": [extension]})
    dist.script_args = ["build_ext"]
    command = build_ext(dist)
    command.inplace = True
    command.build_temp = str(ROOT / "var" / "build-native")
    command.build_lib = str(ROOT / "var" / "build-native")
    command.force = True  # make decided that it is out of date
    command.ensure_finalized()
    try:
        command.run()
    except Exception as error:  # CompileError, LinkError, a missing compiler or header
        print(f"编译失败 / build failed: {error}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
