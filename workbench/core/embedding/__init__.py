"""The embedding projector's core: a dataset's features at one layer, laid out in 2-D, and neighbours."""
