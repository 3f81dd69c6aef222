"""The event log: what readers were shown and what they did, appended by posts, social, shop and feeds.

Infrastructure below every domain: it imports only core and its own model, so any service may write to
it; the recommender's training job (app/feeds/training.py) reads it.
"""
