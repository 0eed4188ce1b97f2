"""The job system: long tasks as database rows, run by worker processes, never on the API event loop."""
