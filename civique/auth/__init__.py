"""Accounts, login, sessions, API tokens, OIDC single sign-on, roles and permissions."""
