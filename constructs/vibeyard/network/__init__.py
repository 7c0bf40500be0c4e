"""Default-deny NetworkPolicies and the named needs that open them."""
