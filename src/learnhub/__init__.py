"""LearnHub: the backend of an online learning platform."""

__version__ = "0.1.0"
