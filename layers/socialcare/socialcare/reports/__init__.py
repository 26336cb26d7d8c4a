"""Reports over the case history (parity)."""
