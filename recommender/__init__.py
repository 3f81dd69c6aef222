"""Tastemaker's recommender: a plain library (numpy, scipy, scikit-learn) that ranks items per user.

It never imports flask or the app; app/feeds builds its inputs from the database and stores its outputs.
"""
