"""The Next.js web tier: Deployment, Service and Ingress."""
