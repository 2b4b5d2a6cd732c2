"""The hot core: pure tensor functions, batched over leading axes, on any device."""
