"""What a manager reads: periods and the digest, the briefing, history, the release forecast, status."""
