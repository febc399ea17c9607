"""The documents a release carries: the HTML report, the dataset card, Croissant metadata, the EU AI Act summary."""
