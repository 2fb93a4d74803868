"""Services: business rules over repositories, inside a unit of work they never commit."""
