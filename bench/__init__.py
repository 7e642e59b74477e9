"""Benchmarks: fixed seeds, a baseline measured in the same run, a JSON line with the ratio.

Not tests: nothing here asserts a time. See bench/README.md.
"""
