"""``ldl eval``: score super-resolution models on image sets with the field's conventions."""
