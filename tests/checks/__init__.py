"""Tests of narrator/checks: what a model sentence must pass."""
