"""The durable side: engine, models, migrations, the outbox, note encryption."""
