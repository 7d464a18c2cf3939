"""The application layer: one function per use case, called by the API's routers."""
