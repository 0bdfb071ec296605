"""Production settings refuse to start half-configured; the default tier needs no services."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_check(tmp_path, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS")} | {
        "DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "cms.settings.production",
    }
    full_env.pop("DATABASE_URL", None)
    full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' conftest
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 60}, "ALLOWED_HOSTS"),
        ({"SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "rd.example.internal"}, "OTP_WEBAUTHN_RP_ID"),
    ],
)
def test_production_refuses_to_start_without_real_secrets(tmp_path, env, message):
    result = run_check(tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "生产环境必须设置" in result.stderr


def test_production_starts_when_configured(tmp_path):
    result = run_check(
        tmp_path,
        SECRET_KEY="a-long-random-secret-key-for-tests-0123456789-abcdefghijklmnop",
        ALLOWED_HOSTS="rd.example.internal",
        OTP_WEBAUTHN_RP_ID="rd.example.internal",
        OTP_WEBAUTHN_ALLOWED_ORIGINS="https://rd.example.internal",
    )
    assert result.returncode == 0, result.stderr


def test_all_state_lives_under_data_dir(settings):
    data_dir = Path(settings.DATA_DIR)
    assert Path(settings.MEDIA_ROOT).is_relative_to(data_dir)
    assert Path(settings.STATIC_ROOT).is_relative_to(data_dir)
    assert Path(settings.JIEBA_CACHE_DIR).is_relative_to(data_dir)
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        assert Path(settings.DATABASES["default"]["NAME"]).is_relative_to(data_dir)


def test_chinese_first(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
