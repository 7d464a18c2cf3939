"""Repositories: the queries and writes of one area each; they flush, the unit of work commits."""
