"""Persistence: SQLAlchemy models, the database (SQLite by default, PostgreSQL by URL) with its Alembic
migrations, and the content-addressed media store for reference images."""
