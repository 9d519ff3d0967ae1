"""Tests of narrator/eval: the evaluation measures, metrics and the benches."""
