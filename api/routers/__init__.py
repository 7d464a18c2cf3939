"""One router per resource, collected by api.app."""
