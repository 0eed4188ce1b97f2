"""Explore: search and browse the public projects and datasets of every workspace, with or without a key."""
