"""One person's data: export it, or erase it everywhere socialcare keeps it (GDPR art. 15, 17)."""

from socialcare.privacy.service import ErasureReport, PrivacyError, erase_author, export_author, parse_author

__all__ = ["ErasureReport", "PrivacyError", "erase_author", "export_author", "parse_author"]
