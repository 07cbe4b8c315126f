"""The pure domain: standard library only, `now` always passed in."""
