"""Backprop Live's web layer: Flask + Socket.IO over the engine (the engine knows nothing of it)."""
