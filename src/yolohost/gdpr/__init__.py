"""GDPR: export every row and file of an account as a downloadable archive, or delete them for good."""
