"""The namespace every environment lives in, and its quota and limits."""
