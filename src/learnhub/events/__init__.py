"""Domain events, their in-process bus and the outbox relay."""
