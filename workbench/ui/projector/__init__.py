"""The Projector tab: a dataset laid out by a layer\x27s features."""
