# The two commands a new machine needs: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install install-dev migrate demo lint typecheck pytest messages clean

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt client/pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt client/pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	mkdir -p var && $(PY) manage.py load_demo > var/load_demo.json

## make run: install, migrate, load the demo region, start web + worker + beat (Ctrl-C stops all)
run: demo
	@echo
	@echo "Registry portal: http://127.0.0.1:$(PORT)/   API docs: http://127.0.0.1:$(PORT)/api/docs/"
	@echo "Sign-ins are listed above (load_demo). Ctrl-C stops web, worker and beat."
	PORT=$(PORT) $(VENV)/bin/honcho start -f deploy/Procfile.dev

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r .
	$(PY) -m tests.security.audit_dependencies

typecheck: install-dev
	$(VENV)/bin/mypy .

pytest: install-dev
	DJANGO_ENV=test $(VENV)/bin/pytest -q $(PYTEST_ARGS)

## make test: dev requirements, lint, types, the whole suite (on PostgreSQL when DATABASE_URL says so)
test: lint typecheck pytest

messages: install-dev
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=client
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
