"""Datasets: labelled images for training, ingested from archives, versioned as NDJSON snapshots."""
