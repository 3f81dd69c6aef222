"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi run`."""
from app import create_app, settle_for_serving

app = create_app()
settle_for_serving()
