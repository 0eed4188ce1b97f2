"""Storage integrations (cloud buckets) and Roboflow import: validated, and refused clearly on this server."""
