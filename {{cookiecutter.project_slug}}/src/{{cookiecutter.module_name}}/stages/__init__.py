"""Pipeline stages beyond the core train-and-gate loop, one module each."""
