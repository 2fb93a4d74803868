"""Database infrastructure: engines, the session class and its global behaviour, unit of work."""
