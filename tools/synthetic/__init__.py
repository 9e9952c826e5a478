"""Synthetic data: the seeded panel generator and its landing through the contract's checks."""
