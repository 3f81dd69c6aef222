"""Realistic, deterministic, bilingual demo data (`flask seed-demo`)."""
