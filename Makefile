# GridDesk: `make run` sets everything up and starts the product; `make test` sets up and runs every test.
# Every step is incremental: re-running when nothing changed takes seconds.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# pip prints one harmless line per package for this machine's extra local indexes; keep the output readable.
QUIET_PIP := 2>&1 | { grep -v "is neither a file nor a directory" || true; }
.DEFAULT_GOAL := help

VENV_DIR   ?= .venv
BOT_VENV   := $(VENV_DIR)/bot
APP_VENV   := $(VENV_DIR)/app
BOT_PY     := $(BOT_VENV)/bin/python
APP_PY     := $(APP_VENV)/bin/python
export GRIDDESK_RASA_BIN ?= $(abspath $(BOT_VENV))/bin/rasa

.PHONY: help setup envs model db run run-postgres postgres redis test lint browser webchat clean

help:
	@echo "make run    set up (environments, model, database) and start GridDesk"
	@echo "make run-postgres  the same on PostgreSQL (the project's own cluster, installed and started as needed)"
	@echo "make cluster       GridDesk with replicas: PostgreSQL, Redis, 2 gateways, 2 Rasa, 2 action servers, HAProxy"
	@echo "make test   set up, run the gates and the whole test suite on SQLite, then the suite again on PostgreSQL"
	@echo "make clean  remove environments, models and local data"

envs: $(BOT_VENV)/.installed $(APP_VENV)/.installed

# bot env: Python 3.10 + Rasa (DESIGN.md). Rebuilt only when its requirements change.
$(BOT_VENV)/.installed: requirements/bot.txt
	@echo "==> creating bot env ($(BOT_VENV), Python 3.10 + Rasa; first time takes a few minutes)"
	@rm -rf $(BOT_VENV) && "$$(scripts/find-python 3.10)" -m venv $(BOT_VENV)
	@$(BOT_PY) -m pip install --quiet --upgrade pip $(QUIET_PIP)
	@$(BOT_PY) -m pip install --quiet -r requirements/bot.txt $(QUIET_PIP)
	@touch $@

# app env: Python 3.11 + the project. torch goes first, pinned, so the CPU build is taken.
$(APP_VENV)/.installed: requirements/app.lock pyproject.toml
	@echo "==> creating app env ($(APP_VENV), Python 3.11 + GridDesk; first time takes a few minutes)"
	@rm -rf $(APP_VENV) && "$$(scripts/find-python 3.11)" -m venv $(APP_VENV)
	@$(APP_PY) -m pip install --quiet --upgrade pip $(QUIET_PIP)
	@$(APP_PY) -m pip install --quiet torch==2.13.0 $(QUIET_PIP)
	@$(APP_PY) -m pip install --quiet -r requirements/app.lock $(QUIET_PIP)
	@$(APP_PY) -m pip install --quiet --no-deps --no-build-isolation -e . $(QUIET_PIP)
	@touch $@

# Rasa model: trained only when bot/ data or config changed (cached by content hash).
model: envs
	@$(APP_PY) -m ops.train_model

db: envs
	@$(APP_PY) -m ops.setup_db

setup: envs model db

run: setup
	@$(APP_PY) -m ops.run

# `make run` on PostgreSQL: the project's own cluster (ops/postgres.py: a unix socket, no TCP port), started
# before the database set-up and stopped when GridDesk stops. Its data stays for the next run.
run-postgres: envs model postgres
	@url="$$($(APP_PY) -m ops.postgres start)"; trap '$(APP_PY) -m ops.postgres stop' EXIT; \
	  echo "==> PostgreSQL: $$url"; \
	  GRIDDESK_DATABASE_URL="$$url" $(APP_PY) -m ops.setup_db && GRIDDESK_DATABASE_URL="$$url" $(APP_PY) -m ops.run

# Debian's PostgreSQL server (initdb, pg_ctl) for make test's PostgreSQL pass and run-postgres; installed only
# when missing. The package also makes the unprivileged `postgres` user the server runs as when we are root.
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { echo "==> installing postgresql (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# Debian's Redis server (ops/redis.py: a unix socket, no TCP port) for several gateway processes
# (GRIDDESK_REDIS_URL) and for the tests that run them; installed only when missing. The package also makes the
# unprivileged `redis` user the server runs as when we are root. Debian's service is not what we run: ops.redis
# starts its own server in var/redis (or a throwaway one in the tests).
redis:
	@command -v redis-server >/dev/null 2>&1 || { echo "==> installing redis-server (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

# `make run` with replicas (ops/cluster.py): PostgreSQL and Redis (the project's own, started and stopped for
# you), two action servers, two Rasa servers, two gateways and HAProxy in front, all on loopback; Ctrl-C stops all.
.PHONY: cluster haproxy
cluster: envs model postgres redis haproxy
	@$(APP_PY) -m ops.cluster

# Debian's HAProxy, the cluster's load balancer; installed only when missing. Debian's own service is not what
# we run: ops.cluster starts HAProxy in the foreground with its own configuration (var/cluster/haproxy.cfg).
haproxy:
	@command -v haproxy >/dev/null 2>&1 || test -x /usr/sbin/haproxy || { echo "==> installing haproxy (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }

# Debian's chromium for the browser tests (installed only when missing).
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "==> installing chromium (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@# Chinese glyphs for the pages' screenshots (the browser tests' optional GRIDDESK_SCREENSHOTS)
	@dpkg -s fonts-noto-cjk >/dev/null 2>&1 || { echo "==> installing fonts-noto-cjk (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; }

# The rasa-webchat widget (npm), for the browser test of the Socket.IO channel; installed only when
# missing, into var/webchat (gitignored, never committed).
WEBCHAT_DIR := var/webchat
WEBCHAT_JS  := $(WEBCHAT_DIR)/node_modules/rasa-webchat/lib/index.js
webchat: $(WEBCHAT_JS)

$(WEBCHAT_JS):
	@command -v npm >/dev/null 2>&1 || { echo "==> installing npm (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	@echo "==> installing rasa-webchat 1.0.1 into $(WEBCHAT_DIR) (browser tests only)"
	@mkdir -p $(WEBCHAT_DIR)
	@npm install --prefix $(WEBCHAT_DIR) --no-audit --no-fund --ignore-scripts --loglevel=error rasa-webchat@1.0.1 >/dev/null
	@test -f $@

# The quality gates: lint and format (ruff), the layering contracts (import-linter), types (mypy).
lint: envs
	$(APP_PY) -m ruff check .
	$(APP_PY) -m ruff format --check .
	$(APP_VENV)/bin/lint-imports
	$(APP_PY) -m mypy

# The whole suite after the gates: unit tests, Rasa data validation and test stories, integration tests
# against the real Rasa server + action server + gateway, and browser tests in headless Chromium (the
# GridDesk pages and the rasa-webchat widget); on both cores (PYTEST_WORKERS=0 runs them in one process).
# Then the suite again on PostgreSQL (unit, integration and browser tests; the Rasa project's own checks need no
# database): a throwaway cluster in a temporary folder, one database per worker, the integration stack's gateway,
# action server and Rasa tracker store on it too (tests/database.py). TEST_DATABASES=sqlite skips that pass.
PYTEST_WORKERS ?= 2
TEST_DATABASES ?= sqlite postgresql
test: setup browser webchat postgres redis haproxy lint
	@for db in $(TEST_DATABASES); do \
	  if [ "$$db" = sqlite ]; then echo "==> the whole suite on SQLite"; \
	    $(APP_PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) || exit $$?; \
	  else echo "==> the suite on $$db"; \
	    $(APP_PY) -m pytest -n $(PYTEST_WORKERS) --db=$$db --ignore=tests/bot $(PYTEST_ARGS) || exit $$?; fi; \
	done

clean:
	rm -rf $(VENV_DIR) models var
