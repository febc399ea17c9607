"""Text extraction: HTML (trafilatura or resiliparse), ALTO, METS, TEI; Project Gutenberg's header and licence cut
off. Bytes or strings in, text out."""

from filters.extract.alto import AltoPage, alto_text, parse_alto
from filters.extract.boilerplate import strip_gutenberg
from filters.extract.html import HtmlExtractor, decode_payload, get_extractor
from filters.extract.mets import MetsDocument, href_to_relpath, is_mets, parse_mets
from filters.extract.tei import tei_text
from filters.extract.xmlutil import ExtractionError

__all__ = [
    "AltoPage",
    "ExtractionError",
    "HtmlExtractor",
    "MetsDocument",
    "alto_text",
    "decode_payload",
    "get_extractor",
    "href_to_relpath",
    "is_mets",
    "parse_alto",
    "parse_mets",
    "strip_gutenberg",
    "tei_text",
]
