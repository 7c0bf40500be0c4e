"""Argo CD: the Applications that sync ``dist/<env>`` into a cluster."""
