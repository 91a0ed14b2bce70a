"""`make chaos`: the whole system under load while its parts are killed, then proof nothing was lost."""
