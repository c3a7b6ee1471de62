# Thin wrapper around scripts/run.sh (the README's two commands).
.PHONY: main test book
main:
	bash scripts/run.sh main
test:
	bash scripts/run.sh test
book:
	.venv/bin/bench book
