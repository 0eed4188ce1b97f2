"""The trash: deleted projects, datasets and models, restorable for a retention period."""
