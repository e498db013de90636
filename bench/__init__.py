"""Benchmarks and reliability harness: `make bench`, `make load`, `make crash`."""
