# Two commands do all set-up: `make book` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Chapters show static stand-ins for live widgets when VAEMI_STATIC is set.
export VAEMI_STATIC := 1
# The checkout's data/ folder is the dataset and checkpoint cache (the package itself defaults to ~/.cache/vaemi_nb).
export VAEMI_DATA ?= $(CURDIR)/data
STAMP  := $(VENV)/.installed

.PHONY: setup book test test-unit lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,book,thirdparty]"  # thirdparty: the library chapter 11 trains with
	touch $(STAMP)

setup: $(STAMP)

# Execute every chapter (profile $$VAEMI_PROFILE, default quick) and build _build/html.
book: $(STAMP)
	$(VENV)/bin/jupyter-book build . --warningiserror --keep-going

# Both test layers: tests/unit (the library, seconds) and tests/book (every notebook under nbval,
# the browser, Colab and student checks).
test: $(STAMP)
	$(PY) -m pytest

# ruff over the package, tools, tests and the notebooks' code (rules in pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The library's unit tests alone.
test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

# Student versions of the chapters: an nbgrader course in student/ (source/ with solutions, release/ without,
# made by nbgrader generate_assignment, which executes nothing); see student/README.md.
.PHONY: student
student: $(STAMP)
	$(PY) tools/student.py

clean:
	rm -rf _build
