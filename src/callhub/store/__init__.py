"""The store: SQLModel tables and keyword-only async query functions."""
