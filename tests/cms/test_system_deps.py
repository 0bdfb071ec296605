"""scripts/system-deps.sh, the one script make run, make test and .ci/run share: as a user who
is not root and lacks packages it installs nothing and prints the exact command to run."""

import os
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "system-deps.sh"


def run(tmp_path, uid: str, tools=(), system_path=False):
    """The script with a PATH holding ``id`` (answering *uid*) and the given tools, then the
    system's own folders when *system_path*."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (bin_dir / "id").chmod(0o755)
    for tool in tools:
        os.symlink(shutil.which(tool), bin_dir / tool)
    path = f"{bin_dir}:/usr/local/bin:/usr/bin:/bin" if system_path else str(bin_dir)
    env = {"PATH": path, "HOME": str(tmp_path)}
    return subprocess.run(
        [shutil.which("bash"), str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


def test_not_root_and_missing_packages_prints_the_apt_line_and_installs_nothing(tmp_path):
    done = run(tmp_path, "1000")  # no dpkg, soffice or msgfmt on this PATH: they count as missing
    assert done.returncode == 1
    assert "缺少系统软件包" in done.stderr
    line = next(x for x in done.stderr.splitlines() if "apt-get install" in x)
    for package in ("libreoffice-writer-nogui", "fonts-noto-cjk", "gettext"):
        assert package in line
    assert "安装系统软件包" not in done.stdout  # nothing was installed


def test_everything_present_is_silent_for_anyone(tmp_path):
    tools = [t for t in ("dpkg", "soffice", "msgfmt", "chromium") if shutil.which(t)]
    if len(tools) < 4:
        import pytest

        pytest.skip("the system packages are not installed on this machine")
    done = run(tmp_path, "1000", system_path=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == done.stderr == ""
