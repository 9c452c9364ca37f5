"""Staff accounts (agents, grid managers, admins): login, sessions and roles, shared by every console."""
