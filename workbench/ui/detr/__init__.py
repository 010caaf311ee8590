"""The DETR tab: a set predictor's object queries, their boxes and attention, and their matching."""
