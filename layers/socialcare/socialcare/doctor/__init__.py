"""`socialcare doctor`: a deployed (or local) stack checked from the outside, one line per check."""
