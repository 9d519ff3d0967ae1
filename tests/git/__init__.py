"""Tests of narrator/git: reading repositories safely, sources and clones, files, commits, dates, units."""
