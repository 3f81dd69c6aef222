"""Moderation and curation of communities: reports, one queue, actions with due process, a public log."""
