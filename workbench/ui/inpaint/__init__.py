"""The Inpaint tab: the painted mask filled by latent optimisation and by a context encoder."""
