"""Users, workspaces and roles, API keys, and the authentication every route depends on."""
