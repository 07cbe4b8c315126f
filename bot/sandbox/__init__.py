"""The local trial workspace (`alliance-bot sandbox`, or `make run` without Slack
settings): Alliance's own code, unchanged, against a stand-in for Slack's Web
API, with a page in the browser. It sits on top of bot/ and handlers/: nothing
there imports it (the CLI only dispatches to it)."""
