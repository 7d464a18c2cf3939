"""Response and request shapes that only the API needs (the claim itself is domain.claim.Claim)."""
