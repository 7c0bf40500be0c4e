"""Scraping, alerting and dashboards for one environment.

Only ``monitoring.Monitoring`` is meant to be used from the chart. The rule and
dashboard builders (``alert_rules``, ``dashboards``, ``promql``) are plain Python
so tests can exercise them without starting jsii; this file therefore imports
nothing, or importing them would pull in cdk8s.
"""
