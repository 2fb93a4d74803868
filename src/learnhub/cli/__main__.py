"""`python -m learnhub.cli`: how `serve` starts its audit watcher, and how scripts run the
command without the console script."""

from learnhub.cli.app import app

app()
