"""Orders from every channel (own stores, mini program, Tmall, JD, Douyin) with line items, in fen."""
