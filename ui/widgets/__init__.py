"""The app's reusable Qt widgets."""
