"""The edge of every process: the door of Lambda handlers and container entrypoints, the host that picks the
adapters, and fault injection for tests and drills."""
