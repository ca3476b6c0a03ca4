"""Django apps of the write model: ORM models, admin, migrations and the unit of work that `services/` declares."""
