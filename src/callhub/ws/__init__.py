"""Agent tabs over websockets: the hub (extension -> tabs) and the endpoint handlers."""
