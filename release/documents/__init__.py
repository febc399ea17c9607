"""The documents a release carries, one module each: the HTML report (`report`, with its `gate` and `origin`
sections), the EU AI Act summary (`eu_summary`), Croissant metadata (`croissant`) and the dataset card (`card`); the
facts they share (`facts`), their Jinja2 environments (`templating`, templates in `templates/`) and the writer of the
files (`writer`)."""
