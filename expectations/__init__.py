"""Great Expectations suites (JSON, built-in types) and the gate that runs them on every shard."""
