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
    extension = Extension(
        "search._fastwrite",
        sources=["search/_fastwrite.c"],
        extra_compile_args=["-O2", "-Wall", "-Wno-unused-function"],
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
    except Exception as error:  # CompileError, LinkError, a missing compiler
        print(
            f"警告：C 模块 search/_fastwrite 编译失败（{error}），将使用较慢的纯 Python 实现。"
            " Warning: search/_fastwrite was not built; the pure Python twin runs instead.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
