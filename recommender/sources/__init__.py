"""Candidate sources: each fits on TrainingData and scores a batch of users over every item."""
