PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test install install-test lint clean sshd

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# pip's build output goes to a log file, shown only when the install fails.
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . > $(VENV)/install.log 2>&1 \
		|| (cat $(VENV)/install.log; exit 1)

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]' > $(VENV)/install.log 2>&1 \
		|| (cat $(VENV)/install.log; exit 1)

demo: install
	$(BIN)/python examples/demo.py

# The transport tests start Debian's OpenSSH sshd; they skip when it is missing.
sshd:
	@command -v /usr/sbin/sshd >/dev/null \
		|| DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server \
		|| (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server) \
		|| echo "openssh-server could not be installed: the sshd tests will be skipped" >&2

test: install-test sshd
	$(BIN)/ruff check digitaleo_client fake_server tests
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check digitaleo_client fake_server tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache *.egg-info
