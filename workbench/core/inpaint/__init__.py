"""Inpainting: masks painted or loaded (``masks``), and filling them with a generator by latent
optimisation or with the bundled context encoder (``fill``; the method is ``core.methods.inpaint``)."""
