"""Value objects, enums, errors and request context shared by every layer."""
