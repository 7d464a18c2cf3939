"""Persistence: SQLAlchemy models, engine, repositories and migrations."""
