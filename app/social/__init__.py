"""The follower graph, blocks and notifications."""
