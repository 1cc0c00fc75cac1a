"""Segments (pools): a rule language compiled to warehouse SQL, previews, explanations, materialised membership."""
