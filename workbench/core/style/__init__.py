"""Style transfer (Gatys et al. 2016): Gram matrices of a feature extractor's layers, the losses
built on them, the extractor chosen for them, and the bundled style images."""
