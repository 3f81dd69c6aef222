# Tastemaker: `make run` to serve the site, `make test` to check it. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 4
export FLASK_APP := wsgi.py

.PHONY: run test install translations migrate seed serve-prod vendor clean-venv messages

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

translations: install
	$(BIN)/pybabel compile -d app/translations >/dev/null 2>&1

migrate: translations
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo --if-empty

run: seed
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# One pytest worker per core (pytest-xdist); a whole file stays on one worker, so module-scoped fixtures are
# built once. Each worker has its own shared apps and its own throwaway PostgreSQL database. PYTEST_ARGS=-n0
# runs serially.
PYTEST_ARGS ?= -n auto --dist loadfile

test: translations
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Production server; WORKERS defaults to 4 (about 2 × cores on the 2-core reference machine).
serve-prod: migrate
	TASTEMAKER_ENV=production $(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) wsgi:app

# Re-vendor front-end assets from npm (versions in package.json) into static/vendor.
vendor:
	npm install --no-audit --no-fund --ignore-scripts
	mkdir -p static/vendor/htmx static/vendor/swagger-ui
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx.org/LICENSE static/vendor/htmx/
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
	   node_modules/swagger-ui-dist/LICENSE static/vendor/swagger-ui/
	sed -i '/sourceMappingURL/d' static/vendor/swagger-ui/swagger-ui-bundle.js static/vendor/swagger-ui/swagger-ui.css

clean-venv:
	rm -rf $(VENV)

# Re-extract user-visible strings and merge them into the en and zh_Hans catalogs (then translate zh_Hans).
messages: install
	$(BIN)/pybabel extract -w 120 -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o app/translations/messages.pot .
	$(BIN)/pybabel update -w 120 -i app/translations/messages.pot -d app/translations --no-fuzzy-matching
