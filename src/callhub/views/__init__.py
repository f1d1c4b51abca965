"""Pages and HTMX fragments for agents, supervisors and admins."""
