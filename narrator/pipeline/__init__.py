"""Narration as it runs: the scan, the whole-history pass, the tasks a narration plans, running them, and jobs."""
