"""Yardsticks for the model: the observable ceiling and the repeat-purchase (BG/BB) baseline."""
