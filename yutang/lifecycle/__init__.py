"""Lifecycle stages, RFM scores and classes, customer value (BG/NBD + Gamma-Gamma), computed in the warehouse."""
