"""Vibeyard's Kubernetes deployment as typed cdk8s constructs."""
