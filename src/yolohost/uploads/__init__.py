"""Direct uploads: a signed URL to PUT bytes to, then a completion that hands them to their asset."""
