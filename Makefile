# 预算联网监督 · 文档与知识库 — make help lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export DATA_DIR ?= $(CURDIR)/var
export PORT

# pytest-xdist workers. Set PYTEST_WORKERS to choose (PYTEST_WORKERS=1: one process). Unset,
# make test-fast runs one per CPU core (its tests keep a core busy) and make test two per core:
# a third of its time is spent waiting on browsers, subprocesses and LibreOffice, and with one
# worker per core that time left the cores idle (docs/architecture.md, "Test run speed").
PYTEST_WORKERS ?=
FULL_WORKERS := $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
# What the edit loop leaves out (make test runs them): browser, real-worker and slow tests
FAST_MARKERS := not browser and not worker and not postgres and not slow

# Kept between test runs (git-ignored, safe to delete): make test-fast's migrated SQLite test
# database (tests/db_template.py: named by a digest of the migrations, copied to each worker;
# make test migrates afresh every run) and, where PYTHONDONTWRITEBYTECODE is set, the bytecode
# of the project and of pytest's rewritten test modules, which would otherwise be compiled
# again by every process of every run.
TEST_CACHE ?= $(CURDIR)/.test-cache
ifneq ($(PYTHONDONTWRITEBYTECODE),)
pytest_env := PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX="$(TEST_CACHE)/pycache"
endif

# pytest in parallel, in a temporary DATA_DIR of its own (each xdist worker takes a
# sub-directory of it: media, index, broker, SQLite test database), removed afterwards.
# The first worker migrates the test database, the others copy it (tests/db_template.py: a
# file for SQLite, a template database on PostgreSQL).
run_pytest = tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/rd-test-XXXXXX"); \
	$(pytest_env) $(2) DATA_DIR="$$tmp" $(VENV)/bin/pytest -n $(or $(PYTEST_WORKERS),$(3)) --dist loadgroup $(1); rc=$$?; \
	rm -rf "$$tmp"; exit $$rc

.PHONY: help install bytecode system-deps translations run run-scaleout serve migrate demo index test test-fast lint format check clean-data

help: ## 列出所有目标 / list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

# The project's C module (the index writer's term loop), built next to its source; without
# it the code runs its pure Python twin (same bytes, slower).
NATIVE := search/_fastwrite$(shell $(PYTHON) -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")

$(NATIVE): search/_fastwrite.c scripts/build_native.py $(VENV)/.installed
	$(PY) scripts/build_native.py

# The project's bytecode, compiled ahead: with PYTHONDONTWRITEBYTECODE set (as on these
# machines) Python writes no .pyc files, so every process (each manage.py command, the web
# and worker processes) compiled the project's sources again, ~0.5 s of each start.
# compileall skips what is up to date; a source edited later is compiled in memory.
APPS := $(patsubst %/__init__.py,%,$(filter-out tests/__init__.py,$(wildcard */__init__.py)))

bytecode: $(VENV)/.installed
	@$(PY) -m compileall -q -j0 $(APPS) manage.py >/dev/null

install: $(VENV)/.installed $(NATIVE) bytecode ## 创建 .venv、安装锁定版本的依赖、编译 C 模块与字节码

system-deps: ## 检查系统软件包（chromium、LibreOffice、中文字体）；root 时自动安装
	@bash scripts/system-deps.sh

# The compiled translations (git-ignored): made again only when a .po file is newer, so the
# test targets do not start Django to recompile unchanged files on every run.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

translations: install system-deps $(MO_FILES) ## 编译本项目的后台中文翻译（locale/ → .mo）

$(MO_FILES) &: $(MO_FILES:.mo=.po) | $(VENV)/.installed system-deps
	$(PY) manage.py compile_translations

migrate: install ## 迁移数据库
	$(PY) manage.py migrate --noinput

demo: migrate ## 载入演示数据（幂等）
	$(PY) manage.py load_demo

index: install ## 重建检索索引
	$(PY) manage.py update_index

run: system-deps translations migrate ## 一条命令：安装、迁移、演示数据，并启动网站 + worker + beat（索引与演示归档由 worker 在网站启动后完成）
	$(PY) manage.py load_demo --background
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "网站地址: http://127.0.0.1:$(PORT)/   管理后台: http://127.0.0.1:$(PORT)/admin/   (Ctrl-C 停止全部进程)"
	$(VENV)/bin/honcho -f Procfile start

WEB ?= 2
WORKERS ?= 2
run-scaleout: install translations ## 扩展形态：PostgreSQL + Redis，WEB 个网站进程、WORKERS 个 worker、1 个 beat
	@test -n "$$DATABASE_URL" -a -n "$$CELERY_BROKER_URL" || { echo "请先设置 DATABASE_URL（PostgreSQL）和 CELERY_BROKER_URL（Redis 或 RabbitMQ），见 docs/deployment.md"; exit 1; }
	export SEARCH_BACKEND=$${SEARCH_BACKEND:-postgres}; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py load_demo && \
	$(PY) manage.py collectstatic --noinput --verbosity 0 && \
	$(PY) manage.py update_index && \
	$(VENV)/bin/honcho -f Procfile start -c web=$(WEB),worker=$(WORKERS),beat=1

test: install system-deps translations ## 运行全部测试（CI 运行的就是这个），pytest 并行（每个 CPU 核两个进程）
	$(PY) manage.py check
	DJANGO_SETTINGS_MODULE=cms.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@$(call run_pytest,$(PYTEST_ARGS),,$(FULL_WORKERS))

test-fast: install translations ## 编辑时的快速测试：不含浏览器、真实 worker 和慢速（LibreOffice、整套演示数据）的测试，并行运行
	@$(call run_pytest,-m "$(FAST_MARKERS)" $(PYTEST_ARGS),TEST_DB_CACHE_DIR="$(TEST_CACHE)/db",auto)

lint: install ## ruff 检查
	$(VENV)/bin/ruff check .

format: install ## ruff 格式化
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean-data: ## 删除 DATA_DIR（var/）中的全部数据
	rm -rf "$(DATA_DIR)"
