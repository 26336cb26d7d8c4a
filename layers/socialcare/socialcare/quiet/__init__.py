"""Know when to stay quiet: quiet periods per region, scheduled brand posts, held messages, crisis watch."""
