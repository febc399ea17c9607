"""Reading inputs: format sniffing, the per-format readers, web archives (WARC/ARC) and library packages (METS)."""
