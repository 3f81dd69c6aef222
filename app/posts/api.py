"""/api/v1 routes for posts."""
from flask_smorest import Blueprint

blp = Blueprint("posts_api", __name__, description="Posts")
