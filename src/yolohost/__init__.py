"""yolohost: a self-hosted Ultralytics HUB Inference API and Platform REST API."""

__version__ = "0.1.0"
