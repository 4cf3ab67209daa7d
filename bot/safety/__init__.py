"""Safety: noticing a person in crisis before anything else."""
