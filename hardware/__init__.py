"""Board definitions and the simulated bin hardware that feeds the real firmware core."""
