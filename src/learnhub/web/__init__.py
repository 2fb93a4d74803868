"""The web app for learners (issue 16): server-rendered pages on the same services and unit
of work as the API. `install(app)` mounts it on the FastAPI app (`api/app.py`)."""
