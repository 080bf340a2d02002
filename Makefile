# The two commands: `make demo` and `make test` (see README.md); `make bench` runs the load scenario.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
DEMO_PORT ?= 8000
PY := $(VENV)/bin/python

.PHONY: demo test bench venv dev-venv assets clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' 2>/dev/null || { echo "需要 Python 3.11 或更高版本（当前：$(PYTHON)）"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changed.
$(VENV)/.installed-runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-runtime

static/vendor/.installed: package.json package-lock.json scripts/vendor_assets.sh
	scripts/vendor_assets.sh
	@touch $@

venv: $(VENV)/.installed-runtime
dev-venv: $(VENV)/.installed-dev
assets: static/vendor/.installed

demo: venv assets
	@mkdir -p var
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py demo_history
	$(PY) manage.py demo_credit
	$(PY) manage.py setup_schedules
	@$(PY) manage.py push_date_run || echo "（候选名单未推送，原因见上；演示照常启动）"
	$(PY) manage.py demo_banner
	@DEMO_PORT=$(DEMO_PORT) DEMO_VAR=$(CURDIR)/var exec $(VENV)/bin/supervisord -c config/supervisord.demo.conf

test: dev-venv assets
	scripts/test.sh

# The load scenario: 50 officers on gunicorn for 3 minutes (bench/load.py); BENCH_ARGS="--run-time 30s" to shorten.
bench: dev-venv assets
	scripts/bench.sh $(BENCH_ARGS)

clean:
	rm -rf var/jingjianda.sqlite3* var/broker var/media
