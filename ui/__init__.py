"""LDL Studio's desktop app: a Qt (qtpy over PyQt6) client of the backend process.

The app never runs a model itself: jobs go to the backend through ``ldl_client``. Mask editing and the
preview blend run locally with the backend's pure mask and blend functions (numpy only, no torch), so what the
user sees equals what the backend's ``reblend`` makes from the same mask.
"""
