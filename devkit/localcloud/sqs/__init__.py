"""SQS event source mappings: a poller per mapping that delivers batches to a function (`poller`)."""
