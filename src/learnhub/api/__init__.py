"""HTTP API: app factory, routers per area, dependencies, error mapping."""
