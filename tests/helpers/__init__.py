"""Helpers shared by the test modules (no test module imports another): repository factories, the
command-line runner, tiny models, local servers and the readers of rendered pages, one module a topic."""
