"""A sandbox claims processor: a real HTTP service that behaves like a clearinghouse."""
