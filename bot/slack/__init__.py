"""The Slack boundary: ids, block builders, client and notifier."""
