"""Presentation: turn results and graphs into text and pictures; compute nothing."""
