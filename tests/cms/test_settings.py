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


def settings_in_subprocess(tmp_path, code, **env):
    """Settings are read once at import: each variant needs its own interpreter."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SEARCH_BACKEND")}
    full_env.update(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="cms.settings.dev", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


SHOW_BACKENDS = (
    "from django.conf import settings; "
    "print(settings.WAGTAILSEARCH_BACKENDS['default']['BACKEND']); "
    "print(settings.CACHES['default']['BACKEND'])"
)


def test_search_backend_defaults_to_whoosh(tmp_path):
    result = settings_in_subprocess(tmp_path, SHOW_BACKENDS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "search.backend",
        "django.core.cache.backends.filebased.FileBasedCache",
    ]


def test_scale_out_is_chosen_by_environment(tmp_path):
    result = settings_in_subprocess(
        tmp_path,
        SHOW_BACKENDS,
        SEARCH_BACKEND="postgres",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        CACHE_URL="redis://127.0.0.1:6379/3",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "search.pg_backend",
        "django.core.cache.backends.redis.RedisCache",
    ]


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SEARCH_BACKEND": "elastic"}, "SEARCH_BACKEND 只能是 whoosh 或 postgres"),
        ({"SEARCH_BACKEND": "postgres"}, "SEARCH_BACKEND=postgres 需要 PostgreSQL 数据库"),
        ({"CACHE_URL": "memcached://127.0.0.1:11211"}, "CACHE_URL 只支持 redis://"),
    ],
)
def test_scale_out_settings_refuse_what_cannot_work(tmp_path, env, message):
    result = settings_in_subprocess(tmp_path, SHOW_BACKENDS, **env)
    assert result.returncode != 0
    assert message in result.stderr
