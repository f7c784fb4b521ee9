# Two commands on a fresh machine:
#   make lab    set everything up and open the course in JupyterLab (the learner's view)
#   make test   set everything up and run the whole test suite
# Instructors and authors: `make instructor` opens everything (source/, the formgrader).
# Both create .venv when it is missing; nothing else needs installing by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
# nbgrader runs `alembic` as a subprocess: the venv's bin/ must be on PATH.
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

LAB_PORT ?= 8888
LAB_ARGS ?= --no-browser
ifeq ($(shell id -u),0)
LAB_ARGS += --allow-root
endif

.PHONY: lab instructor test test-fast release start benchmark lint clean help browser postgres hub-proxy sandbox axe qr-tools bytecode labextension

help:
	@echo "make lab        set up .venv, refresh release/, copy the learner's notebooks, start the learner's JupyterLab"
	@echo "make instructor the instructor's JupyterLab: the whole course (source/, release/) and the formgrader"
	@echo "make test       set up .venv with the test extra and run the whole test suite (two workers; TEST_WORKERS=0: serially)"
	@echo "make test-fast  the quick loop: unit, content and CLI tests (no browser, hub, PostgreSQL, sandbox or nbgrader runs)"
	@echo "make benchmark  print notebook execution times and the cold 'import course' time"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# pip installs uv (pinned in constraints.txt), and uv the pinned tree: about 30 s from a
# fresh clone, where pip alone took about 85 s. --compile-bytecode, as pip does: where
# PYTHONDONTWRITEBYTECODE is set, modules without it are compiled again by every process
# (a full run took 30% more CPU). The start-up hook (course/startup.py) spares jupyter and
# nbgrader about 1.7 CPU-s a start.
UV_INSTALL := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python \
	-c constraints.txt
$(VENV)/.installed: $(VENV)/bin/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt uv
	$(UV_INSTALL) -e .
	$(BIN)/python -c "import course.startup as s; s.install_startup_hook()"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(UV_INSTALL) -e ".[test]"
	touch $@

# The course's own modules, compiled once: every grading kernel, worker and test process
# imports them, and PYTHONDONTWRITEBYTECODE (set on some machines) stops Python saving .pyc.
bytecode: $(VENV)/.installed
	@$(BIN)/python -m compileall -q course

# Answer forms: the prebuilt JupyterLab extension committed in course/labextension. An
# editable install copies it once; this link follows later rebuilds. Learners need no Node.
LABEXT := $(VENV)/share/jupyter/labextensions/mesotherapy-course-forms
$(LABEXT): $(VENV)/.installed
	rm -rf $@ && mkdir -p $(dir $@) && ln -s $(CURDIR)/course/labextension $@

# Instructors and developers only (needs node and npm): rebuild the extension from
# labextension/ with JupyterLab's builder and stamp it with the hash of its sources.
labextension: $(VENV)/.installed
	cd labextension && npm install --no-audit --no-fund && npm run build
	$(BIN)/python -m course.forms stamp

release: $(VENV)/.installed bytecode
	$(BIN)/course release

start: release
	$(BIN)/course start

# The learner's JupyterLab (jupyter-config/learner/): the file browser is rooted at
# assignments/, so source/ (the solutions) is out of its reach, and nbgrader's instructor
# tools are off. The instructor's (jupyter-config/ alone) opens the whole course and the
# formgrader. Both: "Check my answers" on, and `course` in JupyterLab's terminal (PATH,
# exported above, holds the venv's bin/).
START_HERE := 00-orientation/00-start-here.ipynb
LEARNER_CONFIG := $(CURDIR)/jupyter-config/learner:$(CURDIR)/jupyter-config
INSTRUCTOR_CONFIG := $(CURDIR)/jupyter-config

lab: start $(LABEXT)
	JUPYTER_CONFIG_PATH=$(LEARNER_CONFIG)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH} \
		$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) \
		--LabApp.default_url=/lab/tree/$(START_HERE) $(LAB_ARGS)

instructor: release $(LABEXT)
	JUPYTER_CONFIG_PATH=$(INSTRUCTOR_CONFIG)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH} \
		$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) \
		--ServerApp.root_dir=$(CURDIR) $(LAB_ARGS)

# Browser tests use Debian's Chromium (never a downloaded browser). Without root they skip,
# unless COURSE_REQUIRE_BROWSER=1 (set by CI), which turns the skip into a failure.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium is not installed and cannot be without root: browser tests will skip."; fi

# The gradebook-server tests start their own PostgreSQL (Debian's package). Without root
# they skip, unless COURSE_REQUIRE_POSTGRES=1 (set by CI), which turns the skip into a failure.
postgres:
	@if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's postgresql for the gradebook-server tests…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "PostgreSQL is not installed and cannot be without root: its tests will skip."; fi

# The JupyterHub tests (tests/hub) need root, Node.js and configurable-http-proxy. Without
# them they skip, unless COURSE_REQUIRE_HUB=1 (set by CI) turns the skip into a failure.
HUB_PROXY := .cache/hub-node/node_modules/.bin/configurable-http-proxy
hub-proxy:
	@if [ -x $(HUB_PROXY) ]; then :; \
	elif command -v npm >/dev/null; then \
		npm install --prefix .cache/hub-node --no-audit --no-fund --loglevel=error configurable-http-proxy@4.6.3; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's nodejs and npm for the JupyterHub tests…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null && \
		npm install --prefix .cache/hub-node --no-audit --no-fund --loglevel=error configurable-http-proxy@4.6.3; \
	else echo "npm is not installed: the JupyterHub tests will skip."; fi

# The grading sandbox uses Debian's bubblewrap. Without root the sandbox tests skip,
# unless COURSE_REQUIRE_SANDBOX=1 (set by .ci/run), which makes the skip a failure.
sandbox:
	@if command -v bwrap >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's bubblewrap for the grading sandbox…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	else echo "bubblewrap is not installed and cannot be without root: sandbox tests will skip."; fi

# axe-core for the accessibility browser tests (tests/browser/test_axe.py), from npm.
# Without it they skip, unless COURSE_REQUIRE_BROWSER=1 (set by CI) makes that a failure.
AXE_VERSION := 4.14.1
axe:
	@if grep -qs '"version": "$(AXE_VERSION)"' .cache/axe/node_modules/axe-core/package.json; then :; \
	elif command -v npm >/dev/null; then \
		npm install --prefix .cache/axe --no-save --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION); \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's nodejs and npm for the axe tests…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null && \
		npm install --prefix .cache/axe --no-save --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION); \
	else echo "npm is not installed: the axe tests will skip."; fi

# Reading a certificate's QR code back (tests/test_credential.py) uses Debian's poppler-utils
# (pdftoppm) and zbar-tools (zbarimg). Without root that one test skips.
qr-tools:
	@if command -v pdftoppm >/dev/null && command -v zbarimg >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's poppler-utils and zbar-tools for the QR read-back test…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils zbar-tools >/dev/null; \
	else echo "pdftoppm or zbarimg is missing and cannot be installed without root: the QR read-back test will skip."; fi

# Two pytest workers (pytest-xdist), each test file on one worker (--dist loadfile), so a
# file's module fixtures are built once; session fixtures (the executed notebooks, the
# generated course, the browser lab) are built once per worker. TEST_WORKERS=0 runs serially.
# (--dist loadgroup would not help: with pytest 9 xdist 3.8 cannot tag node ids by group.)
TEST_WORKERS ?= 2
test: $(VENV)/.installed-test bytecode browser postgres hub-proxy sandbox axe qr-tools $(LABEXT)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# The quick loop while working: tests marked neither slow (nbgrader, kernels, sandboxes,
# subprocess timings) nor browser, and no notebook execution (only slow tests execute them).
FAST_PYTEST := tests -m "not slow and not browser" --ignore=tests/browser --ignore=tests/hub -q
test-fast: $(VENV)/.installed-test bytecode
	$(BIN)/python -m pytest $(FAST_PYTEST)

benchmark: $(VENV)/.installed
	$(BIN)/python benchmarks/notebooks.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check course tests benchmarks deploy nbgrader_config.py

clean:
	rm -rf $(VENV) .cache submitted autograded feedback downloaded gradebook.db .pytest_cache
