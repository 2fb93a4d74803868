"""Operations procedures run from the command line, not use cases: seeding, the demo data, the
database report with its query plans and bulk loading, backups and their drills. Only the
composition roots (cli) import this package."""
