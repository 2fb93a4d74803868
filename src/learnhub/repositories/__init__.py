"""Repositories: the only code that builds queries. One module per aggregate."""
