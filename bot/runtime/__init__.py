"""What starts and wires the process: the app factory, bootstrap, HTTP server, CLI, logging."""
