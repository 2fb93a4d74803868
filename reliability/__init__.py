"""Reliability scripts (issue 8): a bounded load run and a database-outage run against a real
`learnhub serve` on PostgreSQL, each checking afterwards that no acknowledged write was lost.

Run from the repository root with the project's virtualenv:

    python -m reliability.load --users 200 --workers 2 --duration 60
    python -m reliability.faults --users 100 --workers 2 --duration 30 --down 5
"""
