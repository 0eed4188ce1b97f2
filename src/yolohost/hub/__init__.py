"""The HUB Inference API generations: the shared ``POST /`` API and the legacy ``/v1`` API."""
