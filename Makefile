# The two commands of the README. Each one does the whole set-up first (idempotent).
.PHONY: setup demo test test-fast

setup:
	bash scripts/setup.sh

# Build a small demo set, enhance it with the shipped default model, score it, show the table.
demo: setup
	bash scripts/demo.sh

# The test suite (what CI runs). Pytest's exit code 5 (no tests collected) is a failure too.
test: setup
	.venv/bin/python -m pytest -q --timeout=600 tests

# The fast tier while editing: everything but the end-to-end / training / corpus-building tests
# (those are marked `slow`); `make test` and CI still run the whole suite.
test-fast: setup
	.venv/bin/python -m pytest -q -m "not slow" tests
