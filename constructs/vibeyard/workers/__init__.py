"""BullMQ worker pools: one Deployment per job type."""
