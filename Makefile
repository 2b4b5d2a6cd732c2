# The two commands of the README. Each one does the whole set-up first (idempotent).
.PHONY: setup demo test

setup:
	bash scripts/setup.sh

# Build a small demo set, enhance it with the shipped default model, score it, show the table.
demo: setup
	bash scripts/demo.sh

# The test suite (what CI runs). Pytest's exit code 5 (no tests collected) is a failure too.
test: setup
	.venv/bin/python -m pytest -q --timeout=600 tests
