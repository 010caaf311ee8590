"""CV Workbench: explore computer-vision models by clicking."""

__version__ = "0.1.0"
