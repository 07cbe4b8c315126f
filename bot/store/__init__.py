"""The durable side: engine, models, migrations, the sent-message ledger, note encryption."""
