"""Group-buy pre-orders (接龙): sell first, then produce."""
