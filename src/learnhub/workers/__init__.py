"""Background workers: the outbox relay, event handlers and the audit watch loop. Composition
roots (cli, the app factory) start them; services and the api never import them."""
