"""Commands beside the pipeline: the demo (and its generated text), NER training, out-of-core corpus dedup."""
