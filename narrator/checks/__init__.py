"""Checks a model sentence must pass before it is shown."""
