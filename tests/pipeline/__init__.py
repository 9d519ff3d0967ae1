"""Tests of narrator/pipeline: scanning, the history pass, narration as it runs, jobs and the cache."""
