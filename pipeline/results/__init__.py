"""What a run publishes beside the predictions: data-quality rows, run history, the weekly summary, the scored
rows, the weeks published before, and the HTML run report."""
