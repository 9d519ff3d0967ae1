"""Whole-product tests: the command line, packaging, imports, launch, golden show output, the browser, acceptance."""
