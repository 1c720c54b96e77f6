"""The HTTP API: authenticates, validates and turns requests into Temporal calls, nothing more."""
