"""Alliance: alliance check-ins for in-clinic therapy teams, in Slack."""
