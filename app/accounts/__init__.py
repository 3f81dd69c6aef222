"""Accounts: users, roles, authentication, profiles, settings and personal API tokens."""
