"""The activity feed of a workspace: what happened, who did it, what each member has seen."""
