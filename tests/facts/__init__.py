"""Tests of narrator/facts: what git facts and people's words say, without a model."""
