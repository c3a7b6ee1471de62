"""Stub of Colab's ``google.colab``: its presence in ``sys.modules`` is what notebooks test."""

EMULATED = True
