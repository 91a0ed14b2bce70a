"""`make bench`: the booking write path measured against a raw Kafka produce and a raw store append."""
