"""X12 005010: the interchanges claimflow sends to and reads from clearinghouses."""
