"""留抵退税筛查: runs over every general taxpayer, their results, the return states they read, the set-based
statement (PostgreSQL) beside the rules, and one taxpayer's explanation and what-if."""
