"""Operations procedures run from the command line (backups and their drills)."""
