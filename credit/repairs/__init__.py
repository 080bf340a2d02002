"""纳税信用修复、复核、复评 cases: services (writes), selectors (reads), figures (what the rules give), pages."""
