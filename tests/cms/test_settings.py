"""Production settings refuse to start half-configured; the default tier needs no services."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "Zq8v-3kP_w9LmT2xR7cYb4NfH6jD1sGa0uE5oIiK-QzXtVyWnBrMlCpAhSdFgJe"


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
        ({"SECRET_KEY": STRONG_KEY}, "ALLOWED_HOSTS"),
        ({"SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "rd.example.internal"}, "OTP_WEBAUTHN_RP_ID"),
    ],
)
def test_production_refuses_to_start_without_real_secrets(tmp_path, env, message):
    result = run_check(tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "生产环境必须设置" in result.stderr


DOCUMENTED = {  # docs/deployment.md, step 3
    "SECRET_KEY": STRONG_KEY,
    "ALLOWED_HOSTS": "rd.county.internal",
    "CSRF_TRUSTED_ORIGINS": "https://rd.county.internal",
    "OTP_WEBAUTHN_RP_ID": "rd.county.internal",
    "OTP_WEBAUTHN_ALLOWED_ORIGINS": "https://rd.county.internal",
    "TRUSTED_PROXIES": "127.0.0.1",
    "COUNTY_NAME": "元江县",
}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"SECRET_KEY": "x"}, "SECRET_KEY 太弱或是默认值"),
        ({"SECRET_KEY": "dev-only-insecure-key-change-me"}, "SECRET_KEY 太弱或是默认值"),
        ({"SECRET_KEY": "ab" * 40}, "SECRET_KEY 太弱或是默认值"),
        ({"ALLOWED_HOSTS": "*"}, "不能使用通配主机"),
        ({"ALLOWED_HOSTS": "rd.county.internal,.county.internal"}, "不能使用通配主机"),
        ({"OTP_WEBAUTHN_ALLOWED_ORIGINS": "http://rd.county.internal"}, "必须是 https 地址"),
    ],
)
def test_production_refuses_weak_settings_in_chinese(tmp_path, change, message):
    """Found item 5: production accepted SECRET_KEY=x, ALLOWED_HOSTS=* and an http origin."""
    result = run_check(tmp_path, **(DOCUMENTED | change))
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_with_the_documented_settings_gives_no_warnings(tmp_path):
    result = run_check(tmp_path, **DOCUMENTED)
    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow  # new interpreters, seconds each: make test runs it
def test_the_default_settings_are_production_like(tmp_path):
    """Found item 5: manage.py, wsgi.py and celery defaulted to cms.settings.dev."""
    for name in ("manage.py", "cms/wsgi.py", "cms/asgi.py", "cms/celery.py"):
        text = (ROOT / name).read_text()
        assert '"cms.settings.onebox"' in text and "settings.dev" not in text, name
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    env["DATA_DIR"] = str(tmp_path)
    env.pop("DATABASE_URL", None)
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SETTINGS_MODULE, len(s.SECRET_KEY))"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE',"
            " 'cms.settings.onebox'); " + script,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.split() == ["False", "cms.settings.onebox", "86"], out.stderr
    key_file = tmp_path / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    # the same key next time: sessions survive a restart
    again = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE',"
            " 'cms.settings.onebox'); import django; django.setup();"
            " from django.conf import settings as s; print(s.SECRET_KEY)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.stdout.strip() == key_file.read_text().strip()


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


@pytest.mark.slow  # new interpreters, seconds each: make test runs it
def test_production_values_for_second_factor_demo_data_and_mail_links(tmp_path):
    """Found item 6: liaisons needed no second factor, load_demo ran and e-mail links
    pointed to 127.0.0.1:8000 in production."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | DOCUMENTED
    env |= {"DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "cms.settings.production"}
    env.pop("OTP_REQUIRED_ROLES", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print('|'.join(s.OTP_REQUIRED_ROLES)); print(s.DEMO_DATA_ALLOWED); "
        "print(s.SITE_BASE_URL); print(s.TRUSTED_PROXIES)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = out.stdout.splitlines()
    assert "部门联络员" in lines[0].split("|"), out.stderr
    assert lines[1:] == ["False", "https://rd.county.internal", "['127.0.0.1']"]
    demo = subprocess.run(
        [sys.executable, "manage.py", "load_demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode != 0 and "生产环境不载入演示数据" in demo.stderr


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


@pytest.mark.slow  # new interpreters, seconds each: make test runs it
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
