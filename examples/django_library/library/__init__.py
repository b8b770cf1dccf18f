"""The library example project: a lending library run on Django."""
