"""The public edge in front of the web tier: Gateway API (a Gateway, HTTPRoutes, a
ReferenceGrant where needed) or an Ingress, per ``EdgeConfig.mode``."""
