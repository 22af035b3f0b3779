"""Operator accounts: roles, argon2 passwords, console sessions, API tokens, login rate limits, the session
secret. Functions take an open SQLAlchemy session; the caller owns the transaction."""
