"""Running officina: request ids, access logs, metrics and health checks for every face."""
