# Two commands do all set-up: `make book` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Chapters show static stand-ins for live widgets when VAEMI_STATIC is set.
export VAEMI_STATIC := 1
STAMP  := $(VENV)/.installed

.PHONY: setup book test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,book]"
	touch $(STAMP)

setup: $(STAMP)

# Execute every chapter (profile $$VAEMI_PROFILE, default quick) and build _build/html.
book: $(STAMP)
	$(VENV)/bin/jupyter-book build . --warningiserror --keep-going

# Unit tests and every notebook under nbval.
test: $(STAMP)
	$(PY) -m pytest

# Student versions of the chapters (exercises kept, solutions removed) in student/; see student/README.md.
.PHONY: student
student: $(STAMP)
	$(PY) tools/student.py

clean:
	rm -rf _build
