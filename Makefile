PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test install install-test lint clean sshd

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

demo: install
	$(BIN)/python examples/demo.py

# The transport tests start Debian's OpenSSH sshd; they skip when it is missing.
sshd:
	@command -v /usr/sbin/sshd >/dev/null || apt-get install -y openssh-server \
		|| (apt-get update && apt-get install -y openssh-server) \
		|| echo "openssh-server could not be installed: the sshd tests will be skipped" >&2

test: install-test sshd
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check digitaleo_client fake_server tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache *.egg-info
