"""Projects: groups of models in a workspace."""
