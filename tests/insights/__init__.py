"""Tests of narrator/insights: the briefing, digest, history, forecast, status and portfolio figures."""
