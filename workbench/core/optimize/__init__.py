"""Optimising an input image: one loop shared by activation maximisation, feature inversion and
DeepDream (``loop.ascend``), the image's parametrisation (pixels, or a colour-decorrelated Fourier
spectrum), the regularisers with their presets, the objectives and SSIM."""
