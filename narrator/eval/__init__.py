"""Measuring the product: the evaluate command, the benchmark and its figures."""
