"""/api/v1 routes for feeds."""
from flask_smorest import Blueprint

blp = Blueprint("feeds_api", __name__, description="Feeds")
