"""The `learnhub` command line, the composition root of the command-line side: `app` builds the
typer app from one module per command group (serve, seed, db, audit, users, events, quizzes,
tutor); `common` holds what they share."""
