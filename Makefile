# Two commands for a newcomer:  `make serve`  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test install clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --progress-bar off -e '.[test]'
	touch $@

install: $(VENV)/.installed

serve: $(VENV)/.installed  ## install into .venv and start the server on the embedded default (SQLite + ./data)
	$(VENV)/bin/yolohost serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed  ## install into .venv and run the whole test suite
	$(VENV)/bin/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
