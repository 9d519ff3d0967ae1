"""Tests of narrator/service: what the dashboard and the command line ask of NarratorService."""
