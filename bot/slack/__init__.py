"""Everything that talks to or renders for Slack, and the Services bundle handed to
handlers and jobs."""
