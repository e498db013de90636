# compound_app — everything a new machine needs is in these targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip --disable-pip-version-check
FLASK  := $(BIN)/flask --app compound_app
HOST   ?= 127.0.0.1
PORT   ?= 5000
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-pg test-browser test-dates lint format messages translations bench load crash clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=24"

# Runtime dependencies, pinned by constraints.txt.
$(VENV)/.runtime: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install -q -c constraints.txt -e .
	@touch $@

# Development dependencies on top (pytest, hypothesis, playwright, ruff).
$(VENV)/.dev: $(VENV)/.runtime
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	@touch $@

# After changing user-facing strings: extract and merge, then translate zh_Hans_CN's new entries.
messages: $(VENV)/.runtime
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs '.* __pycache__' \
		--add-comments TRANSLATORS: -o translations/messages.pot .
	$(BIN)/pybabel -q update --ignore-obsolete --no-fuzzy-matching -i translations/messages.pot -d translations

translations: $(VENV)/.runtime
	@$(BIN)/pybabel compile -f -d translations >/dev/null

# The server and, beside it, the SMS outbox worker (dev SMS box); Ctrl-C stops both.
run: $(VENV)/.runtime translations
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	@$(FLASK) messages work & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# The whole suite on SQLite, the browser tests included, on one worker more than the cores
# (pytest-xdist): a worker waiting on a browser leaves its core to the extra one.
# --dist loadgroup keeps tests that share one expensive set-up (the demo) on one worker.
WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
PYTEST := $(BIN)/pytest -q -p no:cacheprovider -n $(WORKERS) --dist loadgroup

test: $(VENV)/.dev translations
	$(PYTEST)

# Each worker uses a database of its own, named after PG_TEST_URL's (test_gw0, test_gw1…).
test-pg: $(VENV)/.dev translations
	TEST_DATABASE_URL=$(PG_TEST_URL) $(PYTEST) -m "not browser"

test-browser: $(VENV)/.dev translations
	REQUIRE_BROWSER=1 TEST_DATABASE_URL=$(PG_TEST_URL) $(PYTEST) -m browser

# The date-sensitive areas at other moments: a later year, and New Year's midnight in China.
DATE_SLICE := tests/committees tests/fees tests/oversight tests/votes
test-dates: $(VENV)/.dev translations
	TEST_NOW=2029-06-01T09:00:00+08:00 $(PYTEST) -m "not browser" $(DATE_SLICE)
	TEST_NOW=2027-01-01T00:00:00+08:00 $(PYTEST) -m "not browser" $(DATE_SLICE)

# Page benchmark on SQLite, or on PostgreSQL when DATABASE_URL points at one
# (docs/ARCHITECTURE.md §5, the performance contract).
bench: $(VENV)/.dev translations
	$(BIN)/python -m bench pages

# gunicorn -w 4 under LOAD_USERS (50) simulated people for LOAD_SECONDS (60).
load: $(VENV)/.dev translations
	$(BIN)/python -m bench load

# kill -9 the server under write load, 10 rounds; every acknowledged write must survive.
crash: $(VENV)/.dev translations
	$(BIN)/python -m bench crash

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
