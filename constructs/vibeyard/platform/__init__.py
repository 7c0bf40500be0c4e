"""Cluster-wide objects that serve Vibeyard but live outside its namespaces (admission policy)."""
