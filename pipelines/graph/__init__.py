"""The Beam graph and what runs it: transforms, out-of-core fuzzy dedup, checkpoints, progress, cluster workers."""
