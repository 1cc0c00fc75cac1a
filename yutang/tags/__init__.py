"""Tags in tag groups (like WeCom corporate tags) and which customers carry them."""
