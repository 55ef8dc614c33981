"""Benchmarks: corpus generation and measured runs with a baseline in the same invocation."""
