"""API schemas (Pydantic v2): the only place that decides what travels over HTTP."""
