"""Posts (notes and reviews), their images, tags, comments, likes, saves and collections.

Importing the package registers what post and comment notifications link to (notices).
"""
from app.posts import notices  # noqa: F401
