"""Terroir's own PII recognizers, all Presidio recognizers, most reading one shared candidate scan (`scan`):
`finance` (IBAN, card), `phone` and `libphone` (phone numbers), `dates` (dates of birth), `address` (street
addresses, postcodes), `url` (personal URLs), `labelled_ids` (identifiers known by their label) and
`presidio_fixes` (replacements for Presidio recognizers that scan too much)."""
