"""Communities: verticals with owners, moderators, members and rules."""
