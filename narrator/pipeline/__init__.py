"""Narration as it runs: the scan, the whole-history pass, the narration plan and run, jobs and refresh."""
