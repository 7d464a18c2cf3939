"""The HTTP API: starts claim workflows, reads their state, takes decisions."""
