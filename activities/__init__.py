"""Activities: everything that touches the world outside a workflow (files, the calendar data,
the database, notifications). Each is safe to retry."""
