"""Storage use of a workspace: bytes by category (datasets, models, exports), largest items, the quota."""
