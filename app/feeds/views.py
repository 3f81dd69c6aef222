"""The home page."""
from flask import Blueprint, render_template

bp = Blueprint("feeds", __name__)


@bp.get("/")
def home():
    return render_template("feeds/home.html")
