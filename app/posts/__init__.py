"""Posts (notes and reviews), their images, tags, comments, likes, saves and collections."""
