"""The processes: worker, CLI, dev stack. The composition root."""
