"""Every side effect, as an idempotent, retryable Temporal activity."""
