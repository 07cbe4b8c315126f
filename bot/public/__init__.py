"""The clients' own rating pages under `/r/…` (issue 16): the only pages of
Alliance a client ever sees. Nothing here talks to Slack."""
